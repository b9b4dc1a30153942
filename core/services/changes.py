"""Never a silent overwrite (core layer; issue 16 item 4): a review save names the version of the incident the
person opened, and a newer one saved by someone else meanwhile (another PC, another window) refuses the save
with when, who and what changed. Every review change keeps the earlier record as a version, so the version
number is the token and the kept versions say what changed."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.clock import from_db, local
from core.db.models import Incident, IncidentVersion, User
from core.errors import ChangedElsewhere
from core.services.incident_mapping import snapshot_of

# Plain words for the parts of a record a kept version holds (core.services.incident_mapping.snapshot_of).
CHANGE_LABELS = {"ward_id": "ward", "types": "incident types", "occurred_at": "when it happened",
                 "occurred_precision": "when it happened", "shift": "shift", "location": "where it happened",
                 "people": "people involved", "flags": "circumstances", "description": "what happened",
                 "immediate_actions": "what was done at once", "status": "status",
                 "feedback_note": "feedback to the reporter", "harm_physical": "harm", "harm_psychological": "harm",
                 "restricted": "restriction"}


def check_unchanged(session, inc: Incident, seen_version: int | None) -> None:
    """Refuse to save over a change someone else made since this person read version `seen_version` (None: no
    check). The row is locked first (SELECT ... FOR UPDATE on a server; SQLite's write transaction already holds
    the store), so two saves cannot both pass the check."""
    if seen_version is None:
        return
    session.refresh(inc, with_for_update=True)
    if inc.version == seen_version:
        return
    kept = session.scalars(select(IncidentVersion).where(IncidentVersion.incident_id == inc.id,
                                                         IncidentVersion.version >= seen_version)
                           .order_by(IncidentVersion.version)).all()
    before = json.loads(kept[0].snapshot) if kept and kept[0].version == seen_version else {}
    now = snapshot_of(session, inc)
    changed = sorted({CHANGE_LABELS.get(k, k.replace("_", " ")) for k in now if before.get(k) != now.get(k)})
    newest = kept[-1] if kept else None
    who = session.scalar(select(User.username).where(User.id == newest.created_by)) if newest else None
    at = from_db(newest.created_at if newest else inc.updated_at)
    when = local(at).strftime("%H:%M on %d %b") if at else "a moment ago"
    raise ChangedElsewhere(
        f"Someone else{f' ({who})' if who else ''} changed this incident at {when}, after you opened it. Changed: "
        f"{', '.join(changed) or 'its details'}. Your change was not saved over theirs: open the incident again to "
        "see theirs, then make yours.")
