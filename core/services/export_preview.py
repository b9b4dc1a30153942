"""What the export dialog shows before an export, in one service and one transaction (issue 15 item 1).

For the choices on screen: the identifier-like text in the chosen incidents (to redact or confirm) and the
incidents changed since their last export of this kind; for one incident's PDF, its id from the reference typed.
The scan is audited as a count (core.services.exports.identifiers_in), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.db.store import unit_of_work
from core.dto import Actor
from core.security.permissions import require
from core.services.exports import (
    PDF_INCIDENT,
    PDF_WARD,
    IdentifierHit,
    ReexportFlag,
    check_kind_and_period,
    id_for_reference_in,
    identifiers_in,
    reexport_in,
)


@dataclass(frozen=True)
class ExportPreview:
    hits: list[IdentifierHit]
    flags: list[ReexportFlag]


def export_preview(store, actor: Actor, kind: str, *, ward_id: int | None = None, date_from: date | None = None,
                   date_to: date | None = None, incident_reference: str = "") -> ExportPreview:
    require(actor, "export.run")
    check_kind_and_period(kind, date_from, date_to)
    if kind == PDF_INCIDENT and not incident_reference.strip():
        return ExportPreview([], [])
    with unit_of_work(store) as session:
        incident_id = id_for_reference_in(session, actor, incident_reference) if kind == PDF_INCIDENT else None
        hits = [] if kind == PDF_WARD else identifiers_in(session, actor, ward_id=ward_id, date_from=date_from,
                                                          date_to=date_to, incident_id=incident_id)
        flags = reexport_in(session, actor, kind, ward_id=ward_id, date_from=date_from, date_to=date_to)
        if incident_id is not None:
            flags = [f for f in flags if f.incident_id == incident_id]
        session.commit()
        return ExportPreview(hits, flags)
