r"""Where Lantern keeps its own files (core layer): settings, the demo store, logs.

Settings hold only the store's location and display preferences, never a secret. A shared ward PC keeps
them machine-wide (`C:\ProgramData\Lantern\settings.json` on Windows, `/etc/xdg/Lantern` on Linux), so
every Windows user of the PC opens the same store; the machine-wide file wins over a user's own. The trust's
rules override lives only there, so every user of a PC gets the same safeguarding prompts.
Environment overrides (LANTERN_CONFIG_DIR, LANTERN_SITE_CONFIG_DIR, LANTERN_DATA_DIR, LANTERN_LOG_DIR) let
tests and trusts point them elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

APP = "Lantern"
DEMO_PASSWORD = "lantern demo only"  # the documented password of the synthetic demo store
DEMO_INCIDENTS = 300  # how many made-up incidents the built-in demo store holds (`bootstrap.py run`)


def config_dir() -> Path:
    override = os.environ.get("LANTERN_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP, appauthor=False))


def site_config_dir() -> Path:
    """The machine-wide settings folder, shared by every user of the PC."""
    override = os.environ.get("LANTERN_SITE_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.site_config_dir(APP, appauthor=False))


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
    """The user's own settings file."""
    return config_dir() / "settings.json"


def machine_settings_path() -> Path:
    return site_config_dir() / "settings.json"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def load_settings() -> dict:
    """This PC's settings for this user: the machine-wide file wins over the user's own."""
    return {**_read(settings_path()), **_read(machine_settings_path())}


def save_settings(settings: dict) -> Path:
    """Save machine-wide when this account may write there, else in the user's own file. Returns the file.

    Refuses (in plain words) when the machine-wide file sets a value differently and cannot be changed by this
    account: the user's file would be overruled by it, so the change would silently do nothing."""
    from core.errors import StorageFailure
    from core.fs import atomic_write, private_folders

    text = json.dumps(settings, indent=1, sort_keys=True).encode("utf-8")
    machine = machine_settings_path()
    try:
        machine.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(machine, text)
        return machine
    except OSError:
        managed = _read(machine)
        if any(key in managed and managed[key] != value for key, value in settings.items()):
            raise StorageFailure(f"This PC's Lantern settings are kept in {machine}, which your account cannot "
                                 "change. Ask IT to change it there.") from None
    path = settings_path()
    private_folders(path.parent)
    atomic_write(path, text, private=True)  # the user's own file is theirs alone; the machine-wide one is shared
    return path


def rules_override() -> Path | None:
    """The trust-local rules override file, if the trust has put one in place.

    LANTERN_RULES_OVERRIDE names it; otherwise `rules-local.toml` in the machine-wide settings folder (never a
    user's own folder: every user of a PC must get the same safeguarding prompts).
    """
    override = os.environ.get("LANTERN_RULES_OVERRIDE")
    path = Path(override) if override else site_config_dir() / "rules-local.toml"
    return path if path.exists() else None


def prefill_username() -> bool:
    """Whether the lock screen shows the name of the person who was signed in. Off unless the machine-wide
    settings say `"prefill_username": true`: on a shared ward PC the next person should not see (or reuse) the
    last user's name. Read machine-wide only, like the rules override."""
    return _read(machine_settings_path()).get("prefill_username") is True


def configured_server() -> tuple[str, str] | None:
    """The trust's server this PC uses instead of a store folder (issue 16): `server_url`
    (postgresql://HOST/DATABASE, never with a password) and `server_ca_file` (the trust's CA certificate, for a
    server on another computer), from the machine-wide settings only, like the rules override: every user of a
    PC uses the same server."""
    settings = _read(machine_settings_path())
    url = settings.get("server_url")
    return (url, str(settings.get("server_ca_file") or "")) if isinstance(url, str) and url.strip() else None


def configured_store() -> Path | None:
    value = load_settings().get("store")
    return Path(value) if value else None
