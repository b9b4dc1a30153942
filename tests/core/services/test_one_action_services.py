"""One user action, one service, one transaction (issue 15 item 1): services that replace a screen's chain of
calls on the database lane. Real encrypted stores (the make_store fixture), no mocks."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.errors import NotFound, PermissionDenied
from core.services import incidents, review
from tests.core.manager_helpers import report


def audit_count(store, event: str) -> int:
    with unit_of_work(store, write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == event))


@pytest.fixture
def edited(make_store):
    """A submitted incident that the ward manager has edited twice, so it has earlier versions."""
    store, actors, _recovery, wards = make_store()
    detail = report(store, actors["nurse"], wards["Oak Ward"], types=("SS-SA",))
    manager = actors["manager"]
    first = incidents.update_incident(store, manager, detail.incident_id,
                                      replace(detail.draft, description="Corrected wording (synthetic)."),
                                      reason="Wording corrected (synthetic).")
    incidents.update_incident(store, manager, detail.incident_id,
                              replace(first.draft, immediate_actions="Observation increased (synthetic)."),
                              reason="Immediate actions added (synthetic).")
    return store, actors, detail


def test_incident_versions_returns_the_versions_and_their_authors_in_one_read(edited):
    store, actors, detail = edited
    manager = actors["manager"]
    before = audit_count(store, "incident.view_versions")
    result = review.incident_versions(store, manager, detail.incident_id)
    assert audit_count(store, "incident.view_versions") == before + 1  # the reading is audited, once
    assert [v.reason for v in result.versions][-2:] == ["Wording corrected (synthetic).",
                                                       "Immediate actions added (synthetic)."]
    assert result.versions == incidents.list_versions(store, manager, detail.incident_id)
    assert {v.created_by for v in result.versions} <= set(result.authors)
    assert result.authors[manager.user_id] == manager.username


def test_incident_versions_keeps_the_permission_and_the_visibility_rule(edited):
    store, actors, detail = edited
    before = audit_count(store, "incident.view_versions")
    with pytest.raises(PermissionDenied):
        review.incident_versions(store, actors["nurse"], detail.incident_id)  # a reporter does not review
    with pytest.raises(NotFound):
        review.incident_versions(store, actors["manager_elm"], detail.incident_id)  # another ward's manager
    with pytest.raises(PermissionDenied):
        review.incident_versions(store, actors["admin"], detail.incident_id)  # administrators never read content
    assert audit_count(store, "incident.view_versions") == before  # nothing was read, nothing recorded as read
