"""Lantern's only composition root: parse argv, then run the CLI or start the GUI."""

from __future__ import annotations

import sys

QT_PROBE = "--qt-probe"
GUI_OPTIONS = ("--store", "--demo", "--setup")  # everything else is the command line


def wants_gui(argv: list[str]) -> bool:
    """No arguments, or only the GUI's own options (--store DIR, --demo, --setup), start the app window."""
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--store":
            if not rest:
                return False  # the command line's parser says what is missing
            rest.pop(0)
        elif not (arg in GUI_OPTIONS or arg.startswith("--store=")):
            return False
    return True


def _qt_check() -> str:
    """The self-test's Qt check: this same program (script or bundle) in a child process."""
    from core.selftest import qt_probe_in_subprocess

    own = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, __file__]
    return qt_probe_in_subprocess([*own, QT_PROBE])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from core.logs import setup_logging

    setup_logging()
    if argv == [QT_PROBE]:  # run by --self-test in a child process
        from ui.qt_probe import qt_probe

        return qt_probe()
    if not wants_gui(argv):
        from core.cli import run

        return run(argv, qt_check=_qt_check)
    from ui.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
