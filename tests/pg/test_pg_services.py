"""The same core services on a trust's server (issue 16 item 1): accounts set up and approved the server's way,
then a nurse reports, the ward manager completes the action the rules raised, the lead reads it, the
administrator reads nothing; each signed in with their own login role, so row-level security is in every step."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.errors import NotFound
from core.services import incidents, queue, review
from tests.core.helpers_common import draft


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


def test_account_changes_through_the_same_names_keep_separation_of_duties(trust):
    from core.services import accounts

    sign_in, oak = trust
    admin_store, admin = sign_in("admin")
    lead_store, lead = sign_in("lead")
    from core.services.admin_overview import admin_overview

    overview = admin_overview(admin_store, admin)  # the admin page's one read, on a server too
    users = {u.username: u for u in overview.users}
    assert accounts.reset_password(admin_store, admin, users["nurse"].user_id) is None  # waits for the lead
    pending = accounts.list_access_requests(lead_store, lead)
    assert [(r.username, r.kind) for r in pending] == [("nurse", "reset_password")]
    temp = accounts.decide_access_request(lead_store, lead, pending[0].request_id, approve=True)
    store, nurse = sign_in("nurse", temp)
    assert nurse.must_change_password
    nurse = accounts.change_password(store, nurse, temp, "test-only passphrase 9 for the trust")
    store.engine.dispose()  # the next connection signs in afresh: with the new password, not the temporary one
    assert incidents.list_my_incidents(store, nurse) == []
    accounts.sign_out(store, nurse)
    accounts.deactivate_user(admin_store, admin, users["manager"].user_id)
    from core.errors import WrongPassword
    from tests.pg.conftest import PASSWORDS

    with pytest.raises(WrongPassword):
        sign_in("manager", PASSWORDS["manager"])
    accounts.set_role(admin_store, admin, users["nurse"].user_id, "safeguarding_lead")  # a request, not a change
    assert {u.username: u.role for u in accounts.list_users(admin_store, admin)}["nurse"] == "nurse"
