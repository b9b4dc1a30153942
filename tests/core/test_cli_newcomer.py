"""The command line as a newcomer meets it through the README (issue 11, item 14): the `lantern` console script,
`demo` and `passwd` on a store made by `init`, pdf-ward's defaults, "try" hints that are real commands, the
self-test without a display, and `check` on a missing store saying so once. Real encrypted stores, synthetic
data only; every failure is one plain line on stderr."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

import core
import main
from cli.exports import last_complete_month
from cli.main import run
from core.clock import LONDON, utcnow
from core.db.models import Incident
from core.db.store import unit_of_work
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts
from tests.conftest import PASSWORD

REPO = Path(__file__).resolve().parents[2]
LANTERN = Path(sys.executable).with_name("lantern.exe" if os.name == "nt" else "lantern")
NEW_PASSWORD = "another synthetic passphrase 77"


def cli(args, stdin_text=PASSWORD + "\n"):
    out, err = io.StringIO(), io.StringIO()
    code = run(args, stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line_failure(code, err) -> str:
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1 and lines[0].startswith("lantern: ") and "Traceback" not in err, err
    return lines[0]


def console(*args, stdin_text="", cwd=None, env=None):
    """The installed console script, as the README runs it (not from the project folder)."""
    return subprocess.run([str(LANTERN), *args], input=stdin_text, capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=env)


@pytest.fixture
def fast_kdf(monkeypatch):
    """`init` makes stores at the default (slow) Argon2id cost; tests use the RFC 9106 minimum."""
    real = accounts.init_store
    monkeypatch.setattr(accounts, "init_store", lambda *a, **k: real(*a, **{**k, "kdf": MINIMUM_KDF}))


@pytest.fixture
def init_store(tmp_path, fast_kdf):
    """A store made by `init` whose administrator is not called admin; returns (folder, recovery key)."""
    folder, key_file = tmp_path / "store", tmp_path / "recovery.txt"
    code, _out, err = cli(["init", "--store", str(folder), "--org", "RXX", "--ward", "Oak Ward", "--admin", "boss",
                           "--password-stdin", "--recovery-key-file", str(key_file)])
    assert code == 0, err
    return folder, key_file.read_text().strip()


# ----- the console script -----------------------------------------------------------------------------------


def test_the_console_script_runs_from_any_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = console("--version", cwd=tmp_path, env=env)
    assert done.returncode == 0 and done.stdout.strip() == f"Lantern {core.__version__}", done.stderr
    done = console("--help", cwd=tmp_path, env=env)
    assert done.stdout.startswith("usage: lantern ") and "passwd" in done.stdout


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["report"], ["report", "summary"], ["export", "pdf-ward"],
                                  ["rules", "check"], ["check", "--store", "x"], ["passwd"]])
def test_every_try_hint_is_a_command_that_runs(argv, tmp_path):
    code, _out, err = cli(argv, "")
    line = one_line_failure(code, err)
    hinted = re.search(r"(?:try: |Run ')(lantern[^)']*?) ?--help", line)
    assert hinted, line
    words = hinted.group(1).split()
    assert words[0] == "lantern"
    done = console(*words[1:], "--help", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(f"usage: {hinted.group(1).strip()}"), (line, done.stderr)


# ----- demo and passwd on a store made by init --------------------------------------------------------------


def test_demo_on_an_init_store_says_it_needs_an_administrator_and_takes_user(init_store):
    folder, _recovery = init_store
    code, _out, err = cli(["demo", "--store", str(folder), "--incidents", "5", "--password-stdin"])
    line = one_line_failure(code, err)
    assert "--user" in line and "administrator" in line
    code, out, err = cli(["demo", "--store", str(folder), "--incidents", "5", "--user", "boss", "--password-stdin"])
    assert code == 0, err
    assert "added 5 synthetic incidents" in out
    store, _admin = accounts.sign_in(folder, "boss", PASSWORD)
    try:
        with unit_of_work(store, write=False) as session:
            assert session.scalar(select(func.count()).select_from(Incident)) == 5
    finally:
        store.close()


def test_passwd_after_recover_changes_the_temporary_password(init_store):
    folder, recovery = init_store
    code, out, err = cli(["recover", "--store", str(folder), "--user", "boss"], recovery + "\n")
    assert code == 0, err
    temporary = out.split("Temporary password for boss: ")[1].splitlines()[0]
    code, _out, err = cli(["passwd", "--store", str(folder), "--user", "boss"], f"not it\n{NEW_PASSWORD}\n")
    assert "not right" in one_line_failure(code, err)
    code, _out, err = cli(["passwd", "--store", str(folder), "--user", "boss"], f"{temporary}\nshort\n")
    one_line_failure(code, err)
    code, _out, err = cli(["passwd", "--store", str(folder), "--user", "boss"], f"{temporary}\n")
    assert "No new password on standard input" in one_line_failure(code, err)
    code, out, err = cli(["passwd", "--store", str(folder), "--user", "boss"], f"{temporary}\n{NEW_PASSWORD}\n")
    assert code == 0 and "Password changed for boss" in out, err
    assert temporary not in out + err and NEW_PASSWORD not in out + err
    store, actor = accounts.sign_in(folder, "boss", NEW_PASSWORD)
    store.close()
    assert not actor.must_change_password


# ----- check, pdf-ward and the self-test --------------------------------------------------------------------


def test_check_on_a_missing_store_says_so_once(tmp_path):
    code, out, err = cli(["check", "--store", str(tmp_path / "missing"), "--user", "admin", "--password-stdin"])
    line = one_line_failure(code, err)
    message = line.removeprefix("lantern: ")
    assert (out + err).count(message) == 1, out + err


def test_last_complete_month():
    assert last_complete_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert last_complete_month(date(2026, 1, 31)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_pdf_ward_defaults_to_the_only_ward_and_the_last_complete_month(store_folder, tmp_path):
    out = tmp_path / "ward.pdf"
    code, stdout, err = cli(["export", "pdf-ward", "--store", str(store_folder), "--user", "manager",
                             "--password-stdin", "--out", str(out)])
    assert code == 0, err
    first, last = last_complete_month(utcnow().astimezone(LONDON).date())
    assert "Oak Ward (your only ward)" in stdout and f"{first.isoformat()} to {last.isoformat()}" in stdout
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Oak Ward" in text


@pytest.mark.parametrize(("extra", "expected"), [
    ([], "one of your wards: Elm Ward, Oak Ward"),  # the safeguarding lead sees both wards
    (["--ward", "Oak Ward", "--from", "2026-01-01"], "both --from and --to, or neither"),
])
def test_pdf_ward_says_what_it_needs(store_folder, tmp_path, extra, expected):
    code, _out, err = cli(["export", "pdf-ward", "--store", str(store_folder), "--user", "lead", "--password-stdin",
                           "--out", str(tmp_path / "w.pdf"), *extra])
    assert expected in one_line_failure(code, err)
    assert not (tmp_path / "w.pdf").exists()


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0"}, "linux", False),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({}, "win32", False),
])
def test_no_display(environ, platform, expected):
    assert main.no_display(environ, platform) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X and Wayland displays are a Linux matter")
def test_self_test_without_a_display_says_there_is_no_display():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "--self-test"], capture_output=True, text=True,
                          timeout=300, cwd=REPO, env=env)
    qt_line = next(line for line in done.stdout.splitlines() if line.startswith(("ok   qt", "FAIL qt")))
    assert qt_line.startswith("FAIL qt: there is no display"), qt_line
    assert "libxcb" not in done.stdout
