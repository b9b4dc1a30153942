"""Moving a ward's embedded store into the trust's server (issue 16 item 7)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import audit
from core.db.models import StoreMove
from core.db.server import make_server_engine
from core.errors import PermissionDenied, ValidationError
from core.services import accounts, incidents
from core.services.store_move import move_store
from tests.core.manager_helpers import draft, report


@pytest.fixture
def trust(pg_server, pg_database):
    """A trust whose server has other wards than the ward store's (Oak and Elm)."""
    from tests.pg.conftest import build_trust

    yield from build_trust(pg_server, pg_database, wards=("Ash Ward", "Birch Ward"))


@pytest.fixture
def ward_store(fresh, password):
    """A ward store (the tests' template: Oak and Elm wards, one account per role) holding two reports, one
    restricted, and a draft; closed, as it would be on the ward PC."""
    oak = fresh.wards["Oak Ward"]
    report(fresh.store, fresh.actors["nurse"], oak)
    report(fresh.store, fresh.actors["nurse"], oak, types=("SS-STAFF",), perpetrator="staff")
    incidents.create_draft(fresh.store, fresh.actors["nurse"], draft(oak))
    fresh.store.close()
    return fresh.folder, fresh.actors


def _move(pg_server, pg_database, folder, password, username="lead"):
    return move_store(folder, username, password, to=pg_server.url(pg_database), owner=pg_server.superuser,
                      owner_password=pg_server.password)


def test_a_ward_store_moves_in_whole_and_both_ends_agree(trust, pg_server, pg_database, ward_store, password):
    folder, _actors = ward_store
    sign_in, ash = trust
    server_nurse_store, server_nurse = sign_in("nurse")
    taken = incidents.submit_report(server_nurse_store, server_nurse, draft(ash)).reference  # the server's 00001
    moved = _move(pg_server, pg_database, folder, password)
    assert moved.moved == moved.on_server
    assert moved.moved["incidents"] == 3 and moved.moved["audit events"] > 10
    # Every ward-store username that the server already had is renamed and said so; references that clash too.
    assert moved.renamed["admin"] == "admin.oak-ward" and moved.renamed["nurse"] == "nurse.oak-ward"
    assert "manager_elm" not in moved.renamed  # a username the server did not have is kept
    assert taken in moved.new_references and moved.new_references[taken] != taken
    assert "nurse.oak-ward" in moved.waiting_for_approval
    engine = make_server_engine(pg_server.url(pg_database), username=pg_server.superuser,
                                password=pg_server.password)
    try:
        with Session(engine) as session:
            move = session.scalars(select(StoreMove)).one()
            head = {"id": move.old_head_id, "hash": move.old_head_hash}
            assert audit.verify_archive(session, move.store_id, head) == []
            assert audit.verify_chain(session) == []
    finally:
        engine.dispose()
    # The moved nurse signs in only after the server's lead approves the reset the move asked for.
    lead_store, lead = sign_in("lead")
    waiting = {r.username: r.request_id for r in accounts.list_access_requests(lead_store, lead)}
    temp = accounts.decide_access_request(lead_store, lead, waiting["nurse.oak-ward"], approve=True)
    store, nurse = sign_in("nurse.oak-ward", temp)
    nurse = accounts.change_password(store, nurse, temp, "test-only passphrase 77 for the trust")
    mine = incidents.list_my_incidents(store, nurse)
    assert len(mine) == 3  # her two reports (one restricted: she reported it) and her draft


def test_a_store_is_moved_once_and_only_by_its_lead(trust, pg_server, pg_database, ward_store, password):
    folder, _actors = ward_store
    with pytest.raises(PermissionDenied, match="safeguarding lead"):
        _move(pg_server, pg_database, folder, password, username="manager")
    _move(pg_server, pg_database, folder, password)
    with pytest.raises(ValidationError, match="cannot be moved twice"):
        _move(pg_server, pg_database, folder, password)


def test_wards_the_server_already_has_are_refused_and_nothing_is_written(pg_server, pg_database, ward_store,
                                                                           password):
    from tests.pg.conftest import build_trust

    trust = build_trust(pg_server, pg_database)  # Oak and Elm, as the ward store
    next(trust)
    with pytest.raises(ValidationError, match="already has a ward called Elm Ward, Oak Ward"):
        _move(pg_server, pg_database, ward_store[0], password)
    engine = make_server_engine(pg_server.url(pg_database), username=pg_server.superuser,
                                password=pg_server.password)
    try:
        with Session(engine) as session:
            assert session.scalars(select(StoreMove)).all() == []
    finally:
        engine.dispose()
    trust.close()
