"""The command line: --version, init, demo, check (including a flipped byte inside the database), and the
promise that every failure is one plain line on stderr with a non-zero exit and no traceback."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import pytest
from helpers_common import PASSWORD, PY, REPO, draft, fresh_fixture, python_env, template_fixture  # noqa: F401
from sqlalchemy import func, select

import core
from cli.main import run
from core.clock import from_db, utcnow
from core.db.engine import DB_FILE_NAME
from core.db.models import Incident, User, Ward
from core.db.store import unit_of_work
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts, incidents

PAGE = 4096


def cli(args, stdin_text=""):
    out, err = io.StringIO(), io.StringIO()
    code = run(args, stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def subprocess_cli(args, stdin_text=""):
    proc = subprocess.run([PY, str(REPO / "main.py"), *args], input=stdin_text, capture_output=True, text=True,
                          env=python_env(), cwd=REPO, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_failure(code, err):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("lantern: ")
    assert "Traceback" not in err


def test_version_in_process_and_subprocess():
    code, out, _ = cli(["--version"])
    assert code == 0 and out.strip() == f"Lantern {core.__version__}"
    code, out, err = subprocess_cli(["--version"])
    assert code == 0 and core.__version__ in out and not err


@pytest.fixture
def fast_kdf(monkeypatch):
    """The CLI creates stores at the default (slow) Argon2id cost; tests use the RFC 9106 minimum."""
    real = accounts.init_store

    def init_store(*args, **kwargs):
        kwargs.setdefault("kdf", MINIMUM_KDF)
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts, "init_store", init_store)


def test_init_prints_and_writes_recovery_key(tmp_path, fast_kdf):
    folder, key_file = tmp_path / "store", tmp_path / "recovery.txt"
    code, out, err = cli(["init", "--store", str(folder), "--org", "RXX", "--ward", "Oak Ward", "--ward", "Elm Ward",
                          "--admin", "admin", "--password-stdin", "--recovery-key-file", str(key_file)],
                         PASSWORD + "\n")
    assert code == 0, err
    recovery = key_file.read_text().strip()
    assert len(recovery.split("-")) == 8 and recovery in out
    assert PASSWORD not in out
    store, admin = accounts.sign_in(folder, "admin", PASSWORD)
    try:
        assert [w.name for w in accounts.list_wards(store, admin)] == ["Elm Ward", "Oak Ward"]
    finally:
        store.close()
    # The recovery key works through the CLI too (read from stdin, any case and spacing).
    code, out, err = cli(["recover", "--store", str(folder), "--user", "admin"], recovery.lower().replace("-", " "))
    assert code == 0, err
    temp = out.split("Temporary password for admin: ")[1].splitlines()[0]
    s, actor = accounts.sign_in(folder, "admin", temp)
    s.close()
    assert actor.must_change_password
    # init refuses an existing store.
    code, _, err = cli(["init", "--store", str(folder), "--org", "RXX", "--ward", "W", "--admin", "admin",
                        "--password-stdin"], PASSWORD + "\n")
    assert_one_line_failure(code, err)


def test_demo_creates_accounts_wards_and_a_year_of_incidents(tmp_path, fast_kdf):
    folder = tmp_path / "demo"
    code, out, err = cli(["demo", "--store", str(folder), "--incidents", "50", "--password-stdin"], PASSWORD + "\n")
    assert code == 0, err
    store, admin = accounts.sign_in(folder, "admin", PASSWORD)
    try:
        with unit_of_work(store, write=False) as session:
            users = {u.username: u.role for u in session.scalars(select(User))}
            ward_count = session.scalar(select(func.count()).select_from(Ward))
            incidents_rows = session.execute(select(Incident.ward_id, Incident.occurred_at)).all()
    finally:
        store.close()
    assert users == {"nurse": "nurse", "manager": "ward_manager", "lead": "safeguarding_lead",
                     "admin": "administrator"}
    assert ward_count >= 2
    assert len(incidents_rows) == 50
    assert len({w for w, _ in incidents_rows}) >= 2
    times = sorted(from_db(t) for _, t in incidents_rows)
    now = utcnow()
    assert times[0] >= now - timedelta(days=366) and times[-1] <= now
    assert (times[-1] - times[0]).days >= 180
    assert len({(t.year, t.month) for t in times}) >= 8
    for username in ("nurse", "manager", "lead"):
        s, _ = accounts.sign_in(folder, username, PASSWORD)
        s.close()
    # Running demo again adds to the same store.
    code, out, err = cli(["demo", "--store", str(folder), "--incidents", "5", "--password-stdin"], PASSWORD + "\n")
    assert code == 0 and "Opened" in out, err


# ----- check on a damaged database ------------------------------------------------------------------------


@pytest.fixture
def damaged(fresh):
    """A store with a few incidents and one flipped byte in the incidents table's root page (not page 1)."""
    nurse = fresh.actors["nurse"]
    for i in range(20):
        incidents.create_draft(fresh.store, nurse, draft(fresh.wards["Oak Ward"], description=f"Synthetic {i}. " * 40))
    with unit_of_work(fresh.store, write=False) as session:
        page = session.connection().exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'incidents'").scalar()
    fresh.store.close()
    assert page > 1 and not (fresh.folder / (DB_FILE_NAME + "-wal")).exists()
    with open(fresh.folder / DB_FILE_NAME, "r+b") as fh:
        offset = (page - 1) * PAGE + 100
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))
    return fresh.folder


def _assert_check_failed(code, out, err):
    assert code != 0
    assert "FAIL cipher_integrity_check" in out, out
    assert "Traceback" not in err and "Traceback" not in out


@pytest.mark.sqlcipher_only("lantern check reads the embedded store's file; a server is checked by lantern server check (tests/pg/test_pg_check.py)")
def test_check_reports_flipped_byte_in_process(damaged):
    code, out, err = cli(["check", "--store", str(damaged), "--user", "nurse", "--password-stdin"], PASSWORD + "\n")
    _assert_check_failed(code, out, err)
    assert "integrity_check" in out.replace("cipher_integrity_check", "")


@pytest.mark.sqlcipher_only("lantern check reads the embedded store's file; a server is checked by lantern server check (tests/pg/test_pg_check.py)")
def test_check_reports_flipped_byte_as_subprocess(damaged):
    code, out, err = subprocess_cli(["check", "--store", str(damaged), "--user", "admin", "--password-stdin"],
                                    PASSWORD + "\n")
    _assert_check_failed(code, out, err)


@pytest.mark.sqlcipher_only("lantern check reads the embedded store's file; a server is checked by lantern server check (tests/pg/test_pg_check.py)")
@pytest.mark.parametrize("where", ["page2", "middle", "last"])
def test_any_flipped_page_makes_check_fail(fresh, where):
    nurse = fresh.actors["nurse"]
    for i in range(10):
        incidents.create_draft(fresh.store, nurse, draft(fresh.wards["Oak Ward"], description=f"Synthetic {i}."))
    fresh.store.close()
    db = fresh.folder / DB_FILE_NAME
    pages = db.stat().st_size // PAGE
    page = {"page2": 2, "middle": pages // 2, "last": pages}[where]
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * PAGE + 2000)
        byte = fh.read(1)
        fh.seek((page - 1) * PAGE + 2000)
        fh.write(bytes([byte[0] ^ 0x80]))
    code, out, err = cli(["check", "--store", str(fresh.folder), "--user", "admin", "--password-stdin"],
                         PASSWORD + "\n")
    assert code != 0
    assert "FAIL" in out
    assert "Traceback" not in err


@pytest.mark.sqlcipher_only("lantern check reads the embedded store's file; a server is checked by lantern server check (tests/pg/test_pg_check.py)")
def test_check_on_healthy_store_prints_each_check(fresh):
    fresh.store.close()
    code, out, err = cli(["check", "--store", str(fresh.folder), "--user", "lead", "--password-stdin"],
                         PASSWORD + "\n")
    assert code == 0, err
    for name in ("integrity_check", "cipher_integrity_check", "audit_chain", "audit_anchor", "dashboard_summaries"):
        assert f"ok   {name}" in out


# ----- failures: one plain line, non-zero, no traceback ----------------------------------------------------


def test_failures_are_one_plain_line(fresh, tmp_path):
    store = str(fresh.folder)
    cases = [
        (["check", "--store", store, "--user", "admin", "--password-stdin"], ""),  # nothing on stdin
        (["check", "--store", store, "--user", "admin", "--password-stdin"], "wrong password here\n"),
        (["check", "--store", str(tmp_path / "missing"), "--user", "admin", "--password-stdin"], PASSWORD + "\n"),
        (["check", "--store", store, "--password-stdin"], PASSWORD + "\n"),  # missing --user
        (["check", "--store", store, "--user", "admin"], PASSWORD + "\n"),  # missing --password-stdin
        (["frobnicate"], ""),
        (["demo", "--store", str(tmp_path / "d"), "--incidents", "many", "--password-stdin"], PASSWORD + "\n"),
        (["demo", "--store", str(tmp_path / "d"), "--incidents", "-5", "--password-stdin"], PASSWORD + "\n"),
        (["init", "--store", str(tmp_path / "i"), "--org", "RXX", "--ward", "W", "--admin", "admin",
          "--password-stdin"], "short\n"),
        (["restore", "--from", str(tmp_path / "nothing.zip"), "--store", str(tmp_path / "r")], ""),
        (["rules"], ""),
        ([], ""),  # (main.py starts the GUI with no arguments; run() itself names the commands)
    ]
    for args, stdin_text in cases:
        code, out, err = cli(args, stdin_text)
        assert_one_line_failure(code, err)
        assert PASSWORD not in err and "wrong password here" not in err


def test_failures_as_subprocess(fresh, tmp_path):
    for args, stdin_text in (
        (["check", "--store", str(fresh.folder), "--user", "admin", "--password-stdin"], "wrong password\n"),
        (["check", "--store", str(tmp_path / "missing"), "--user", "admin", "--password-stdin"], PASSWORD + "\n"),
        (["check", "--store", str(fresh.folder), "--user", "admin", "--password-stdin"], ""),
        (["backup", "--store", str(fresh.folder)], ""),
    ):
        code, _out, err = subprocess_cli(args, stdin_text)
        assert_one_line_failure(code, err)


def test_unexpected_errors_are_one_line_and_logged_without_text(fresh, monkeypatch):
    from core.services import maintenance

    def broken(*_a, **_k):
        raise RuntimeError("SECRET-DETAIL-123 should never be shown")

    monkeypatch.setattr(maintenance, "check_store", broken)
    code, out, err = cli(["check", "--store", str(fresh.folder), "--user", "admin", "--password-stdin"],
                         PASSWORD + "\n")
    assert_one_line_failure(code, err)
    assert "RuntimeError" in err and "SECRET-DETAIL" not in err + out
