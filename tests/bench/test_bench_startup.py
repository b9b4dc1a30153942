"""Cold start: a fresh Python process to the sign-in window shown, against a bare PySide6 window.

Each round starts a new interpreter (so imports are cold for Python, warm for the OS file cache, as on a
ward PC's second launch). The child prints one line once its window is on screen; the time from starting the
process to reading that line is measured, then the child is stopped. Lantern's child takes the app's own
path (ui.app: style sheet, excepthook, AppController, sign-in window), so the work it starts in the
background for later (checking the taxonomy and rules, importing the database layer) is not counted, as a
user typing their password would not wait for it. Report only: no timing assertions. Aim: the ratio under 1.5x.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BARE = """
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget(); w.show(); app.processEvents()
print("shown", flush=True)
app.exec()
"""

LANTERN = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.app import STYLE, AppController
from ui.errors import install_excepthook
app.setStyleSheet(STYLE)
install_excepthook()
controller = AppController(Path("store"))
controller.show_sign_in("nurse")
app.processEvents()
print("shown", flush=True)
app.exec()
"""


def _run(code: str) -> None:
    # Bytecode is cached, as in an installed copy (the bundle ships compiled modules); the first, warm-up run
    # writes it even where PYTHONDONTWRITEBYTECODE is set for development.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    child = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "shown"
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("which", ["bare_pyside6_window", "lantern_sign_in_window"])
def test_bench_cold_start(benchmark, which):
    code = BARE if which == "bare_pyside6_window" else LANTERN.format(root=str(ROOT))
    _run(code)  # warm the OS file cache once
    benchmark.pedantic(_run, args=(code,), rounds=7, iterations=1)
