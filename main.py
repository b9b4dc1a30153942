"""Lantern's only composition root: parse argv, then run the CLI or start the GUI."""

from __future__ import annotations

import os
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


NO_DISPLAY = ("there is no display to open windows on (neither DISPLAY nor WAYLAND_DISPLAY is set). Run it in "
              "the desktop session, or set QT_QPA_PLATFORM=offscreen to check a machine without a screen.")
WINDOWED = ("", "xcb", "wayland")  # QT_QPA_PLATFORM values that need a display server


def no_display(environ=os.environ, platform: str = sys.platform) -> bool:
    """On Linux, Qt's default window system plugin needs an X or Wayland display to connect to."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM", "").split(":")[0] not in WINDOWED:
        return False
    return not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def _qt_check() -> str:
    """The self-test's Qt check: this same program (script or bundle) in a child process."""
    from core.selftest import CheckFailed, qt_probe_in_subprocess

    own = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, __file__]
    try:
        return qt_probe_in_subprocess([*own, QT_PROBE])
    except CheckFailed:
        if no_display():  # Qt's own hint then blames a missing library, which misleads
            raise CheckFailed(NO_DISPLAY) from None
        raise


def no_core_dumps() -> None:
    """A crash must not write this process's memory (the database key, records on screen) to a core file:
    RLIMIT_CORE 0, soft and hard, where the OS has it (Linux, macOS). On Windows the installer excludes Lantern
    from Windows Error Reporting instead (packaging/windows/lantern.iss; docs/security-model.md, "Memory")."""
    try:
        import resource
    except ImportError:  # Windows
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    no_core_dumps()
    from core.logs import setup_logging

    setup_logging()
    if argv == [QT_PROBE]:  # run by --self-test in a child process
        from ui.qt_probe import qt_probe

        return qt_probe()
    if not wants_gui(argv):
        from cli.main import run

        return run(argv, qt_check=_qt_check)
    from ui.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":  # `python main.py ...`; the `lantern` console script calls main() (pyproject.toml)
    sys.exit(main())
