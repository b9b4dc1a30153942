"""The Qt half of `--self-test` (ui layer): start Qt, load the platform plugin, draw one widget, report."""

from __future__ import annotations

import sys


def qt_probe() -> int:
    """Print one line naming the platform plugin Qt loaded. Qt itself aborts if no plugin can load."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([sys.argv[0]])
    label = QLabel("Lantern")
    label.adjustSize()
    if label.grab().isNull():
        print("Qt started but could not draw a widget.", file=sys.stderr)
        return 1
    print(f"PySide6 {pyside_version}, platform plugin '{app.platformName()}' loaded")
    return 0
