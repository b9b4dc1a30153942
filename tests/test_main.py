"""main.py sends the GUI's own options to the app window and everything else to the command line."""

from __future__ import annotations

import io
import os
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


# ----- quitting at once (issue 11, item 17) ------------------------------------------------------------------

QUIT_AT_ONCE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import main, ui.app
from ui.dialogs.signin import SignInDialog

app = QApplication([sys.argv[0]])
real_check = ui.app.check_domain_data

def slow_check():  # start-up work that is still on the database lane when Quit is pressed, as on a slow PC
    time.sleep(1.5)
    return real_check()

ui.app.check_domain_data = slow_check

def press_quit():
    dialogs = [w for w in app.topLevelWidgets() if isinstance(w, SignInDialog) and w.isVisible()]
    if not dialogs:
        return QTimer.singleShot(5, press_quit)
    print("pressing Quit", flush=True)
    dialogs[0].buttons.rejected.emit()  # the sign-in window's Quit button

QTimer.singleShot(0, press_quit)
sys.exit(main.main(["--store", sys.argv[2]]))
"""


def test_quitting_the_sign_in_window_at_once_exits(tmp_path, monkeypatch):
    """Quit on the sign-in window while the start-up work is still on the lane: the process ends (it hung)."""
    from cli.main import run
    from core.security.keyslots import MINIMUM_KDF
    from core.services import accounts
    from tests.conftest import PASSWORD

    real_init = accounts.init_store
    monkeypatch.setattr(accounts, "init_store", lambda *a, **k: real_init(*a, **{**k, "kdf": MINIMUM_KDF}))
    folder = tmp_path / "store"
    assert run(["init", "--store", str(folder), "--org", "RXX", "--ward", "Oak Ward", "--admin", "admin",
                "--password-stdin"], stdin=io.StringIO(PASSWORD + "\n"), stdout=io.StringIO()) == 0
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", QUIT_AT_ONCE, str(ROOT), str(folder)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60)  # a hang check, not a timing assertion: it exits in about 2 s
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"Lantern did not exit after Quit on the sign-in window. stderr: {err[-500:]}")
    assert "pressing Quit" in out
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Error calling Python override" not in err
