"""Faults on a trust's server (issue 16 item 9): a connection dropped during a review save, and a grant revoked
under a signed-in account. Each ends in a plain error and nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.errors import PermissionDenied, ServerUnreachable
from core.services import incidents
from tests.core.manager_helpers import draft


def test_a_review_save_cut_off_changes_nothing_and_can_be_made_again(trust, pg_server, pg_database):
    sign_in, oak = trust
    nurse_store, nurse = sign_in("nurse")
    sent = incidents.submit_report(nurse_store, nurse, draft(oak))
    store, manager = sign_in("manager")
    seen = incidents.get_incident(store, manager, sent.incident_id).version
    edited = draft(oak, shift="night")

    def cut(session):
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with pg_server.admin(pg_database) as owner:
            owner.execute("SELECT pg_terminate_backend(%s)", (pid,))

    event.listen(Session, "before_commit", cut)
    try:
        with pytest.raises(ServerUnreachable):
            incidents.update_incident(store, manager, sent.incident_id, edited, reason="Night, not day",
                                      seen_version=seen)
    finally:
        event.remove(Session, "before_commit", cut)
    after = incidents.get_incident(store, manager, sent.incident_id)
    assert (after.version, after.draft.shift) == (seen, sent.draft.shift)  # nothing of the cut save was kept
    saved = incidents.update_incident(store, manager, sent.incident_id, edited, reason="Night, not day",
                                      seen_version=seen)
    assert (saved.version, saved.draft.shift) == (seen + 1, "night")


def test_a_grant_revoked_under_a_signed_in_account_is_a_plain_refusal(trust, pg_server, pg_database):
    sign_in, oak = trust
    store, nurse = sign_in("nurse")
    incidents.submit_report(store, nurse, draft(oak))
    with pg_server.admin(pg_database) as owner:
        owner.execute("REVOKE SELECT ON incidents FROM lantern_nurse")
    with pytest.raises(PermissionDenied) as err:
        incidents.list_my_incidents(store, nurse)
    assert str(err.value) == "Your account does not allow this."
