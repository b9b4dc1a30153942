"""The server from the command line, as IT would type it (issue 16 items 7 and 8): `lantern server init`,
`server check`, `server approve` and `migrate-store`, each a real `main.py` process with passwords on standard
input, and bad input answered in one plain line."""

from __future__ import annotations

import subprocess
import sys

from tests.core.helpers_common import REPO, python_env
from tests.core.manager_helpers import report

ADMIN_PASSWORD = "test-only passphrase 42 for the trust"


def lantern(*args, stdin_text=""):
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), *args], input=stdin_text, capture_output=True,
                          text=True, env=python_env(), cwd=REPO, timeout=180)
    return proc.returncode, proc.stdout, proc.stderr


def test_set_up_check_and_move_a_ward_in_from_the_command_line(pg_server, pg_database, fresh, password):
    url = pg_server.url(pg_database)
    code, out, err = lantern("server", "init", "--url", url, "--org", "RXX", "--ward", "Ash Ward", "--admin", "admin",
                             "--password-stdin", stdin_text=f"{pg_server.password}\n{ADMIN_PASSWORD}\n")
    assert (code, err) == (0, "") and "administrator admin" in out and "Encrypt the server's disks" in out
    code, out, _ = lantern("server", "check", "--url", url, "--user", pg_server.superuser, "--password-stdin",
                           stdin_text=pg_server.password + "\n")
    assert code == 1 and "ok   row_security" in out and "FAIL sign_in_delay" in out

    report(fresh.store, fresh.actors["nurse"], fresh.wards["Oak Ward"])
    fresh.store.close()
    code, out, err = lantern("migrate-store", "--from", str(fresh.folder), "--to", url, "--user", "lead",
                             "--password-stdin", stdin_text=f"{password}\n{pg_server.password}\n")
    assert (code, err) == (0, ""), err
    assert "incidents: 1 / 1" in out and "The account admin is now admin.oak-ward" in out
    code, out, err = lantern("migrate-store", "--from", str(fresh.folder), "--to", url, "--user", "lead",
                             "--password-stdin", stdin_text=f"{password}\n{pg_server.password}\n")
    assert code == 2 and err.count("\n") == 1 and "cannot be moved twice" in err


def test_an_address_without_a_role_or_with_a_password_is_one_plain_line(pg_server, pg_database):
    bare = pg_server.url(pg_database).replace(f"{pg_server.superuser}@", "")
    code, _out, err = lantern("server", "approve", "--url", bare, "--request", "1", "--password-stdin",
                              stdin_text="x\n")
    assert code == 2 and err.count("\n") == 1 and "Name the database role" in err
    leaky = pg_server.url(pg_database).replace("@", ":hunter2-synthetic@")
    code, _out, err = lantern("server", "check", "--url", leaky, "--user", "x", "--password-stdin", stdin_text="x\n")
    assert code == 2 and err.count("\n") == 1 and "hunter2" not in err and "password" in err


def test_an_older_server_schema_is_upgraded_from_the_command_line(pg_server, pg_database):
    """`lantern server upgrade`: a trust's server one migration behind (as after installing a newer Lantern) is
    brought to this version's schema by its owner, `server check` agrees, and running it again changes nothing."""
    from alembic import command

    from core.db import migrate
    from core.db.server import make_server_engine

    url = pg_server.url(pg_database)
    code, _out, err = lantern("server", "upgrade", "--url", url, "--password-stdin",
                              stdin_text=pg_server.password + "\n")
    assert code == 2 and err.count("\n") == 1 and "lantern server init" in err  # an empty database
    code, _out, err = lantern("server", "init", "--url", url, "--org", "RXX", "--ward", "Ash Ward", "--admin",
                              "admin", "--password-stdin", stdin_text=f"{pg_server.password}\n{ADMIN_PASSWORD}\n")
    assert (code, err) == (0, "")
    head = migrate.head_revision()
    engine = make_server_engine(url, username=pg_server.superuser, password=pg_server.password)
    try:
        cfg = migrate._config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
        before = migrate.current_revision(engine)
    finally:
        engine.dispose()
    assert before != head
    check = ("server", "check", "--url", url, "--user", pg_server.superuser, "--password-stdin")
    _code, out, _err = lantern(*check, stdin_text=pg_server.password + "\n")
    assert f"FAIL schema: at revision {before}, Lantern needs {head}: run lantern server upgrade, then check again" in out
    code, out, err = lantern("server", "upgrade", "--url", url, "--password-stdin",
                             stdin_text=pg_server.password + "\n")
    assert (code, err) == (0, "") and f"at revision {head} (it was at {before})" in out
    _code, out, _err = lantern(*check, stdin_text=pg_server.password + "\n")
    assert f"ok   schema: at revision {head}" in out
    code, out, _err = lantern("server", "upgrade", "--url", url, "--password-stdin",
                              stdin_text=pg_server.password + "\n")
    assert code == 0 and "(it already was)" in out
