"""main.py sends the GUI's own options to the app window and everything else to the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv", [[], ["--demo"], ["--setup"], ["--store", "/x"], ["--store=/x"], ["--demo", "--store", "y"]])
def test_gui_options_start_the_window(argv):
    assert main.wants_gui(argv)


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["--self-test"], ["init"], ["check", "--store", "x"],
                                  ["--store"], ["--demo", "--bogus"]])
def test_everything_else_is_the_command_line(argv):
    assert not main.wants_gui(argv)


def test_readme_run_command_reaches_the_gui(monkeypatch):
    """`bootstrap.py run` passes --demo: it must reach run_gui, not the CLI's argument parser."""
    seen = []
    import ui.app

    monkeypatch.setattr(ui.app, "run_gui", lambda argv: seen.append(argv) or 0)
    assert main.main(["--demo"]) == 0
    assert seen == [["--demo"]]


def test_version_from_a_subprocess():
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--version"], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.startswith("Lantern ")
