"""Lantern's only composition root: parse argv, then run the CLI or start the GUI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from core.logs import setup_logging

    setup_logging()
    if argv and not argv[0].startswith("--store") or "--version" in argv or "-h" in argv or "--help" in argv:
        from core.cli import run

        return run(argv)
    from ui.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
