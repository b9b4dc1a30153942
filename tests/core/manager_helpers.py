"""Helpers for the manager-view tests: report and submit synthetic incidents through the real services."""

from __future__ import annotations

from datetime import timedelta

from core.clock import utcnow
from core.dto import IncidentDraft, PersonDraft
from core.services import incidents


def draft(ward_id: int, *, types=("SS-HAR-V",), perpetrator: str = "patient", linked_user_id: str | None = None,
          harm=("none", "low"), location: str = "lounge", shift: str = "day", hours_ago: float = 2,
          local_ref: str = "P-001", police_wishes: str | None = None, flags=()) -> IncidentDraft:
    return IncidentDraft(
        ward_id=ward_id, types=tuple(types), occurred_at=utcnow() - timedelta(hours=hours_ago), shift=shift,
        location=location, flags=tuple(flags),
        people=(PersonDraft(role="affected", person_type="patient", local_ref="A-100", harm_physical=harm[0],
                            harm_psychological=harm[1], police_wishes=police_wishes),
                PersonDraft(role="alleged_perpetrator", person_type=perpetrator, local_ref=local_ref,
                            linked_user_id=linked_user_id)),
        description="Synthetic: made-up test incident.")


def report(store, reporter, ward_id: int, **kw):
    """Create and submit one incident as `reporter`; return its IncidentDetail."""
    created = incidents.create_draft(store, reporter, draft(ward_id, **kw))
    return incidents.submit(store, reporter, created.incident_id)
