"""Sending a report is one service and one transaction (issue 15 item 1): write, run the rules, create the
actions, mark it submitted and clear the autosave together, or none of it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.db.models import Incident, SafeguardingAction
from core.db.store import unit_of_work
from core.dto import FormState
from core.errors import ValidationError
from core.services import accounts, drafts, incidents
from tests.core.services.test_drafts import audit_actions, full_draft


def counts(store) -> tuple[int, int]:
    with unit_of_work(store, write=False) as session:
        return (session.scalar(select(func.count()).select_from(Incident)),
                session.scalar(select(func.count()).select_from(SafeguardingAction)))


def nurse_of(make_store, password):
    """The nurse's own store, her actor, Oak Ward's id, and a store that reads the whole trail (which a nurse's
    own login on a server may not)."""
    whole, _actors, _recovery, wards = make_store()
    store, nurse = accounts.sign_in(whole.folder, "nurse", password)
    return store, nurse, wards["Oak Ward"], whole


def test_send_writes_runs_the_rules_and_clears_the_autosave_in_one_go(make_store, password):
    store, nurse, oak, whole = nurse_of(make_store, password)
    try:
        draft = full_draft(oak)
        drafts.save_form(store, nurse, FormState(draft))
        before = len(audit_actions(whole))
        sent = incidents.submit_report(store, nurse, draft)
        assert sent.status == "submitted" and sent.actions
        assert drafts.load_form(store, nurse) is None
        assert audit_actions(whole)[before:] == ["incident.create", "incident.submit"]
    finally:
        store.close()


def test_a_refused_send_leaves_nothing_half_written_and_keeps_the_autosave(make_store, password):
    store, nurse, oak, whole = nurse_of(make_store, password)
    try:
        incomplete = replace(full_draft(oak), description="")  # cannot be sent: no description
        drafts.save_form(store, nurse, FormState(incomplete))
        with pytest.raises(ValidationError):
            incidents.submit_report(store, nurse, incomplete)
        assert counts(store) == (0, 0)                       # no draft row, no reference taken, no actions
        assert drafts.load_form(store, nurse) is not None    # every word kept
    finally:
        store.close()


def test_sending_a_draft_already_started_updates_it_then_sends_it(make_store, password):
    store, nurse, oak, whole = nurse_of(make_store, password)
    try:
        started = incidents.create_draft(store, nurse, replace(full_draft(oak), description=""))
        sent = incidents.submit_report(store, nurse, full_draft(oak), started.incident_id)
        assert (sent.incident_id, sent.reference, sent.status) == (started.incident_id, started.reference,
                                                                   "submitted")
        assert sent.draft.description == full_draft(oak).description
        assert counts(store)[0] == 1
    finally:
        store.close()
