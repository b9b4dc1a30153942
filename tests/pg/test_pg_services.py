"""The same core services on a trust's server (issue 16 item 1): accounts set up and approved the server's way,
then a nurse reports, the ward manager completes the action the rules raised, the lead reads it, the
administrator reads nothing; each signed in with their own login role, so row-level security is in every step."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.errors import NotFound
from core.services import incidents, queue, review
from core.services import server_accounts as accounts
from core.services.server_setup import approve_as_owner, init_server, sign_in_server
from tests.core.helpers_common import draft

PASSWORDS = {name: f"test-only passphrase {n} for the trust" for n, name in enumerate(("admin", "lead", "nurse", "manager"))}


@pytest.fixture
def trust(pg_server, pg_database):
    """A server store with an administrator, and a lead, a nurse and a ward manager of Oak Ward, each approved,
    each past their temporary password. Returns a function that signs someone in: (store, actor)."""
    owner_url = pg_server.url(pg_database)
    location = owner_url.replace(f"{pg_server.superuser}@", "")
    init_server(owner_url, owner=pg_server.superuser, owner_password=pg_server.password, ods_code="RXX",
                wards=["Oak Ward", "Elm Ward"], admin_username="admin", admin_password=PASSWORDS["admin"])
    opened = []

    def sign_in(name: str, password: str | None = None):
        store, actor = sign_in_server(location, name, password or PASSWORDS[name])
        opened.append(store)
        return store, actor

    def settle(name: str, temp: str) -> None:  # first sign-in: replace the temporary password
        store, actor = sign_in(name, temp)
        accounts.change_password(store, actor, temp, PASSWORDS[name])

    admin_store, admin = sign_in("admin")
    oak = {w.name: w.ward_id for w in review_wards(admin_store, admin)}["Oak Ward"]
    lead_request = accounts.create_user(admin_store, admin, username="lead", role="safeguarding_lead").request_id
    settle("lead", approve_as_owner(owner_url, owner=pg_server.superuser, owner_password=pg_server.password,
                                    request_id=lead_request))
    lead_store, lead = sign_in("lead")
    for name, role in (("nurse", "nurse"), ("manager", "ward_manager")):
        new = accounts.create_user(admin_store, admin, username=name, role=role, ward_ids=[oak])
        assert new.temporary_password == ""  # the administrator never holds a password that opens it
        settle(name, accounts.decide_access_request(lead_store, lead, new.request_id, approve=True))
    yield sign_in, oak
    for store in opened:
        store.close()


def review_wards(store, actor):
    from core.services import wards

    return wards.list_wards(store, actor)


def test_a_report_and_its_action_go_round_the_trust(trust):
    sign_in, oak = trust
    nurse_store, nurse = sign_in("nurse")
    sent = incidents.submit_report(nurse_store, nurse, draft(oak))
    assert sent.status == "submitted" and sent.actions and sent.reference

    manager_store, manager = sign_in("manager")
    rows = queue.list_queue(manager_store, manager)
    mine = [r for r in rows.rows if r.incident_id == sent.incident_id]
    assert mine, "the new report's actions are in the ward manager's queue"
    done = incidents.complete_action(manager_store, manager, mine[0].action_id,
                                     note="Spoke to the affected patient and recorded their wishes.",
                                     reference="REF 1")
    assert done.status == "done"

    lead_store, lead = sign_in("lead")
    assert incidents.get_incident(lead_store, lead, sent.incident_id).reference == sent.reference
    assert [i.incident_id for i in review.list_incidents(lead_store, lead).rows] == [sent.incident_id]

    admin_store, admin = sign_in("admin")
    with pytest.raises(NotFound):  # the same answer as for a record that does not exist
        incidents.get_incident(admin_store, admin, sent.incident_id)
    with lead_store.engine.connect() as conn:  # the lead reads the trail: the refusal is in it, signed by the server
        refused = conn.execute(text("SELECT username, outcome FROM audit_events WHERE action = 'access.refused'"))
        assert refused.all() == [("admin", "refused")]
