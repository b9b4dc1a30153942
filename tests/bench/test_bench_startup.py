"""Cold start: a fresh Python process to the sign-in window shown, against a bare PySide6 window.

Each round starts a new interpreter (so imports are cold for Python, warm for the OS file cache, as on a
ward PC's second launch). The child prints nothing; the wall time of the whole process is measured.
Report only: no timing assertions. Aim: the ratio under 1.5x.
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
"""

LANTERN = """
import sys
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.app import check_domain_data, STYLE, DEMO_HINT
from ui.signin import SignInDialog
app.setStyleSheet(STYLE)
assert check_domain_data() == ""
d = SignInDialog("store", DEMO_HINT, "nurse"); d.show(); app.processEvents()
"""


def _run(code: str) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


@pytest.mark.parametrize("which", ["bare_pyside6_window", "lantern_sign_in_window"])
def test_bench_cold_start(benchmark, which):
    code = BARE if which == "bare_pyside6_window" else LANTERN.format(root=str(ROOT))
    _run(code)  # warm the OS file cache once
    benchmark.pedantic(_run, args=(code,), rounds=7, iterations=1)
