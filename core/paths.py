"""Where Lantern keeps its own files (core layer): settings, the demo store, logs.

Settings hold only the store's location and display preferences, never a secret.
Environment overrides (LANTERN_CONFIG_DIR, LANTERN_DATA_DIR, LANTERN_LOG_DIR) let
tests and trusts point them elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

APP = "Lantern"
DEMO_PASSWORD = "lantern demo only"  # the documented password of the synthetic demo store


def config_dir() -> Path:
    override = os.environ.get("LANTERN_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    override = os.environ.get("LANTERN_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP, appauthor=False))


def shared_data_dir() -> Path:
    """A machine-wide folder suitable for a shared ward PC (the default place for a real store)."""
    override = os.environ.get("LANTERN_DATA_DIR")
    if override:
        return Path(override) / "shared"
    return Path(platformdirs.site_data_dir(APP, appauthor=False))


def demo_store_dir() -> Path:
    return data_dir() / "demo-store"


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> dict:
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def save_settings(settings: dict) -> None:
    from core.security.keyslots import atomic_write

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(settings, indent=1, sort_keys=True).encode("utf-8"))


def rules_override() -> Path | None:
    """The trust-local rules override file, if the trust has put one in place.

    LANTERN_RULES_OVERRIDE names it; otherwise `rules-local.toml` in the settings folder.
    """
    override = os.environ.get("LANTERN_RULES_OVERRIDE")
    path = Path(override) if override else config_dir() / "rules-local.toml"
    return path if path.exists() else None


def configured_store() -> Path | None:
    value = load_settings().get("store")
    return Path(value) if value else None
