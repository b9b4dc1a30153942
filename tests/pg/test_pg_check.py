"""`lantern server check` finds what was turned off or tampered with on the server (issue 16 item 8)."""

from __future__ import annotations

import pytest

from core.services.server_check import check_server


def _check(pg_server, pg_database) -> dict:
    results = check_server(pg_server.url(pg_database), owner=pg_server.superuser, owner_password=pg_server.password)
    return {r.name: r for r in results}


def test_a_new_server_passes_every_check_but_the_trusts_own_setting(trust, pg_server, pg_database):
    results = _check(pg_server, pg_database)
    assert [name for name, r in results.items() if not r.ok] == ["sign_in_delay"]  # a server setting, advised
    assert "auth_delay" in results["sign_in_delay"].detail


@pytest.mark.parametrize("tamper, failed, words", [
    ("ALTER TABLE incidents DISABLE ROW LEVEL SECURITY", "row_security", "incidents"),
    ("ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain", "protective_triggers", "audit_events_chain"),
    ("GRANT SELECT ON people_involved TO lantern_administrator", "privileges", "may read people_involved"),
    ("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update; "
     "UPDATE audit_events SET outcome = 'edited' WHERE id = 1; "
     "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update", "audit_chain", "altered"),
    ("UPDATE incidents SET type_codes = 'SS-NONE'", "dashboard_summaries", "miscounted"),
])
def test_each_tampering_fails_its_check_by_name(trust, pg_server, pg_database, tamper, failed, words):
    from core.services import incidents
    from tests.core.helpers_common import draft

    sign_in, oak = trust
    store, nurse = sign_in("nurse")
    incidents.submit_report(store, nurse, draft(oak))
    with pg_server.admin(pg_database) as conn:
        for statement in tamper.split("; "):
            conn.execute(statement)
    results = _check(pg_server, pg_database)
    assert not results[failed].ok and words in results[failed].detail
    assert [n for n, r in results.items() if not r.ok] == [failed, "sign_in_delay"]


def test_a_server_that_slows_password_guessing_passes_sign_in_delay(pg_server):
    """With the trust's setting (auth_delay, as docs/server.md asks), every check passes."""
    import uuid

    from core.services.server_setup import init_server
    from tests.pg.server import ThrowawayServer, find_bindir

    server = ThrowawayServer.start(find_bindir(), settings="-c shared_preload_libraries=auth_delay "
                                                           "-c auth_delay.milliseconds=500")
    try:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with server.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        init_server(server.url(name), owner=server.superuser, owner_password=server.password, ods_code="RXX",
                    wards=["Oak Ward"], admin_username="admin", admin_password="test-only passphrase 42 trust")
        results = _check(server, name)
        assert all(r.ok for r in results.values()), results
    finally:
        server.stop()
