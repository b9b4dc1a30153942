"""The Qt half of `--self-test` (ui layer): start Qt, load the platform plugin, draw one widget, report."""

from __future__ import annotations

import sys


def qt_probe() -> int:
    """Print one line naming the platform plugin Qt loaded. Qt itself aborts if no plugin can load."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([sys.argv[0]])
    screens = _import_every_screen()
    label = QLabel("Lantern")
    label.adjustSize()
    if label.grab().isNull():
        print("Qt started but could not draw a widget.", file=sys.stderr)
        return 1
    print(f"PySide6 {pyside_version}, platform plugin '{app.platformName()}' loaded, {screens} UI modules import")
    return 0


def _import_every_screen() -> int:
    """Import every ui module, so a bundle missing a Qt module a screen needs fails here, not on a ward."""
    import importlib
    import pkgutil

    import ui

    names = [m.name for m in pkgutil.walk_packages(ui.__path__, "ui.")]
    for name in names:
        importlib.import_module(name)
    return len(names)
