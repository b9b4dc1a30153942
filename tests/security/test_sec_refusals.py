"""Issue 13 item 3: every refused read or export leaves an audit row (who, what, when, why) in the same chain,
the caller's answer does not reveal whether the record exists, and the lead's restricted-view log shows refused
attempts on restricted records."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.db import audit
from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.errors import NotFound, PermissionDenied
from core.security.refusals import REFUSED
from core.services import incidents, reports, review
from tests.core.helpers_common import draft

MISSING = "That incident does not exist or is not one you can see."


def _refusals(store):
    with unit_of_work(store, write=False) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == REFUSED)
                               .order_by(AuditEvent.id)).all()
        assert audit.verify_chain(session) == []
        return [(r.username, r.entity_id, r.outcome, json.loads(r.detail)) for r in rows]


@pytest.fixture
def submitted(fresh):
    """A submitted Oak Ward incident, an Elm Ward one, and a restricted Oak one naming the manager's account."""
    store, actors, wards = fresh.store, fresh.actors, fresh.wards
    oak = incidents.create_draft(store, actors["nurse"], draft(wards["Oak Ward"]))
    incidents.submit(store, actors["nurse"], oak.incident_id)
    elm = incidents.create_draft(store, actors["lead"], draft(wards["Elm Ward"]))
    incidents.submit(store, actors["lead"], elm.incident_id)
    restricted = incidents.create_draft(store, actors["nurse"], draft(
        wards["Oak Ward"], perpetrator_type="staff", linked_user_id=actors["manager"].user_id))
    incidents.submit(store, actors["nurse"], restricted.incident_id)
    return fresh, oak.incident_id, elm.incident_id, restricted.incident_id


@pytest.mark.parametrize("who, which, why", [
    ("administrator", "oak", "role"), ("nurse", "elm", "ward"), ("manager", "restricted", "named_staff"),
    ("nurse2", "restricted", "restricted"), ("nurse", "missing", "missing"),
])
def test_a_refused_read_is_audited_with_the_same_answer_as_missing(submitted, who, which, why, engine):
    """On a server, row-level security hides the record from the account's own login, so the app cannot tell
    why: the trail says "missing" (the answer, the same for every case, is the point)."""
    fresh, oak, elm, restricted = submitted
    if engine == "postgresql" and who != "administrator":
        why = "missing"
    target = {"oak": oak, "elm": elm, "restricted": restricted, "missing": "no-such-incident"}[which]
    with pytest.raises(NotFound) as err:
        incidents.get_incident(fresh.store, fresh.actors[who], target)
    assert str(err.value) == MISSING
    username = fresh.actors[who].username
    assert _refusals(fresh.store)[-1] == (username, target, "refused", {"attempted": "incident.view", "why": why})


def test_a_refused_permission_is_audited(fresh):
    with pytest.raises(PermissionDenied):
        reports.dashboard(fresh.store, fresh.actors["nurse"])
    assert _refusals(fresh.store) == [("nurse", "", "refused", {"attempted": "report.view", "why": "role"})]


def test_the_leads_view_log_shows_refused_attempts_on_restricted_records(submitted):
    fresh, _oak, _elm, restricted = submitted
    with pytest.raises(NotFound):
        incidents.get_incident(fresh.store, fresh.actors["manager"], restricted)
    rows = review.restricted_view_log(fresh.store, fresh.actors["lead"], incident_id=restricted)
    assert [(r.username, r.event) for r in rows] == [("manager", REFUSED)]
    history = review.incident_history(fresh.store, fresh.actors["lead"], restricted)
    assert all(h.event != REFUSED for h in history)


def test_a_refused_export_is_audited(fresh, tmp_path):
    from core.services import exports

    with pytest.raises(PermissionDenied):
        exports.export_incidents(fresh.store, fresh.actors["nurse"], "nrls-csv", out_path=tmp_path / "x.csv")
    assert _refusals(fresh.store) == [("nurse", "", "refused", {"attempted": "export.run", "why": "role"})]
    assert not (tmp_path / "x.csv").exists()
