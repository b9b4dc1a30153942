"""Fast checks of packaging/lantern.spec that run everywhere (the bundle build itself is in test_bundle.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = (ROOT / "packaging" / "lantern.spec").read_text()


def _qt_modules_used() -> set[str]:
    used = set()
    for path in [ROOT / "main.py", *(ROOT / "ui").rglob("*.py"), *(ROOT / "core").rglob("*.py")]:
        used |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    return used


def test_no_qt_module_the_app_imports_is_excluded_from_the_bundle():
    excluded = set(re.findall(r'"PySide6\.(Qt\w+)"', SPEC))
    assert excluded, "the spec should exclude unused Qt modules"
    assert not _qt_modules_used() & excluded, "a screen imports a Qt module the spec leaves out"


def test_the_spec_bundles_resources_migrations_and_sqlcipher():
    assert 'tree("resources")' in SPEC and 'tree("core/db/migrations")' in SPEC
    assert '"sqlcipher3"' in SPEC and '"sqlcipher3.dbapi2"' in SPEC
    assert 'name="Lantern", console=False' in SPEC and 'name="lantern-console", console=True' in SPEC


def test_installer_and_desktop_file_point_at_the_built_programs():
    iss = (ROOT / "packaging" / "windows" / "lantern.iss").read_text()
    assert 'Source: "dist\\Lantern\\*"' in iss and "lantern-console.exe" in iss and "--self-test" in iss
    desktop = (ROOT / "packaging" / "linux" / "lantern.desktop").read_text()
    assert "Exec=/opt/lantern/Lantern" in desktop
    assert (ROOT / "resources" / "icons" / "lantern.png").is_file()
    assert (ROOT / "resources" / "icons" / "lantern.ico").is_file()
