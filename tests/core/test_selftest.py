"""The installation self-test (`main.py --self-test`): one line per check, non-zero exit on any failure."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from cli import main as cli
from core import selftest
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _run(qt_check=lambda: "fake Qt ok") -> tuple[int, str]:
    out = io.StringIO()
    code = cli.run(["--self-test"], stdout=out, qt_check=qt_check)
    return code, out.getvalue()


def test_every_check_passes_with_one_line_each():
    code, text = _run()
    assert code == 0, text
    lines = text.splitlines()
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        "ok   sqlcipher", "ok   encrypted store", "ok   taxonomy and rules", "ok   qt"]
    assert "temp_store MEMORY" in lines[1] and "SQLCipher 4." in lines[1]
    assert lines[-1] == "Self-test passed."


def test_fails_and_says_why_when_sqlcipher_is_replaced_by_plain_sqlite(monkeypatch):
    import core.db.engine

    monkeypatch.setattr(core.db.engine, "sqlcipher", sqlite3)
    code, text = _run()
    assert code == cli.EXIT_PROBLEM
    assert "FAIL sqlcipher: This copy of Lantern is running on a plain, unencrypted SQLite build" in text
    assert "FAIL encrypted store" in text  # the store check refuses the plain build too
    assert "Self-test FAILED (sqlcipher, encrypted store)" in text


def test_a_broken_taxonomy_fails_its_line_and_the_others_still_run(monkeypatch):
    def broken():
        raise ConfigError("taxonomy.toml", "incident_types", "no incident types")

    monkeypatch.setattr("core.taxonomy.loader.load_taxonomy", broken)
    code, text = _run()
    assert code == cli.EXIT_PROBLEM
    assert "FAIL taxonomy and rules: taxonomy.toml: incident_types: no incident types" in text
    assert "ok   qt" in text


def test_a_qt_plugin_that_cannot_load_is_reported_with_qts_reason():
    fake = [sys.executable, "-c", "import sys; print('qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\"',"
                                  " file=sys.stderr); sys.exit(134)"]
    code, text = _run(lambda: selftest.qt_probe_in_subprocess(fake))
    assert code == cli.EXIT_PROBLEM
    assert 'FAIL qt: Qt\'s platform plugin did not load (exit 134). qt.qpa.plugin: Could not load the Qt platform ' \
           'plugin "xcb"' in text


def test_the_temporary_store_is_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(selftest.tempfile, "tempdir", str(tmp_path))
    assert "removed" in selftest.check_temporary_store()
    assert list(tmp_path.iterdir()) == []


def test_main_py_self_test_runs_the_real_qt_probe_headless():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--self-test"], capture_output=True, text=True,
                          env=env, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   qt: PySide6" in done.stdout and "platform plugin 'offscreen' loaded" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_ui_module_that_cannot_import_in_the_probe_is_named():
    fake = [sys.executable, "-c", "import sys; print('Traceback ...', file=sys.stderr); "
                                  "print('OSError: Can\\'t open file \"Vera.ttf\"', file=sys.stderr); sys.exit(1)"]
    code, text = _run(lambda: selftest.qt_probe_in_subprocess(fake))
    assert code == cli.EXIT_PROBLEM
    assert 'FAIL qt: the user interface could not start (exit 1). OSError: Can\'t open file "Vera.ttf"' in text
