"""A trust's backup and restore of a server store, done the way docs/server.md tells the DBA (issue 16 item 8):
`pg_dumpall --roles-only` and `pg_dump --format=custom`, restored on another server with `psql` and `pg_restore`.
The restored store signs everyone in with their own password, shows each account what it showed before, and
passes `lantern server check`, its audit chain included."""

from __future__ import annotations

import os
import subprocess
import uuid

from core.services import accounts, incidents, review
from core.services.server_check import check_server
from tests.core.helpers_common import draft
from tests.pg.conftest import PASSWORDS
from tests.pg.server import ThrowawayServer, find_bindir


def _client(server: ThrowawayServer, program: str, *args: str, **kw) -> subprocess.CompletedProcess:
    """One of PostgreSQL's client programs, as the server's owner over TCP (the password from the environment,
    never the command line)."""
    env = {**os.environ, "PGPASSWORD": server.password, "PGHOST": "127.0.0.1", "PGPORT": str(server.port),
           "PGUSER": server.superuser}
    return subprocess.run([str(server.bindir / program), *args], env=env, check=True, capture_output=True, **kw)


def test_a_store_backed_up_with_pg_dump_restores_on_another_server_and_passes_check(trust, pg_server, pg_database,
                                                                                      tmp_path):
    sign_in, oak = trust
    nurse_store, nurse = sign_in("nurse")
    sent = [incidents.submit_report(nurse_store, nurse, draft(oak, description=f"Synthetic restore test {n}."))
            for n in range(3)]
    manager_store, manager = sign_in("manager")
    before = {r.reference for r in review.list_incidents(manager_store, manager).rows}
    for store in (nurse_store, manager_store):
        store.close()

    roles, data = tmp_path / "roles.sql", tmp_path / "lantern.dump"  # the dump holds password verifiers: keep it
    roles.write_bytes(_client(pg_server, "pg_dumpall", "--roles-only").stdout)  # encrypted, as docs/server.md says
    _client(pg_server, "pg_dump", "--format=custom", f"--file={data}", pg_database)

    other = ThrowawayServer.start(find_bindir())
    try:
        # The new cluster has its own owner already; every other role (groups and logins) comes from the dump.
        _client(other, "psql", "--quiet", "--dbname=postgres", "--set=ON_ERROR_STOP=0", f"--file={roles}")
        other.password = pg_server.password  # the dump's roles include the owner's, password and all
        _client(other, "createdb", pg_database)
        _client(other, "pg_restore", "--exit-on-error", f"--dbname={pg_database}", str(data))

        results = check_server(other.url(pg_database), owner=other.superuser, owner_password=other.password)
        failed = [r.name for r in results if not r.ok]
        assert failed == ["sign_in_delay"], failed  # the trust's own setting, advised; everything else holds

        location = f"postgresql://127.0.0.1:{other.port}/{pg_database}"
        store, manager = accounts.sign_in(location, "manager", PASSWORDS["manager"])
        try:
            assert {r.reference for r in review.list_incidents(store, manager).rows} == before
            assert {d.reference for d in sent} == before
        finally:
            store.close()
        store, nurse = accounts.sign_in(location, "nurse", PASSWORDS["nurse"])
        try:  # the restored store takes new reports, numbered after the restored ones
            new = incidents.submit_report(store, nurse, draft(oak, description="Synthetic after the restore."),
                                          send_id=str(uuid.uuid4()))
            assert new.reference not in before
        finally:
            store.close()
    finally:
        other.stop()
