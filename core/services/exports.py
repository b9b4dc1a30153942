"""Export services: NRLS-dataset XML and CSV, LFPSE-aligned JSON, incident and ward PDFs (core layer).

One function per user action, one transaction each. Each requires `export.run`, exports only submitted
incidents the actor may see, builds the file in memory, writes it once to the chosen path (a temporary
file beside it, fsync, replace; nothing anywhere else), then records an ExportBatch and an audit event
`export.<kind>` holding counts, ids, the file name and its SHA-256, never incident text.
The file itself is NOT encrypted: callers must tell the user so (PLAINTEXT_NOTICE).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from core.clock import LONDON, from_db, now_db, to_db, utcnow
from core.db.models import ExportBatch, Incident, IncidentType, Organisation, PersonInvolved, SafeguardingAction, Ward
from core.db.store import Store, unit_of_work
from core.dto import Actor, IncidentDetail, IncidentDraft, PersonDraft
from core.errors import NotFound, ValidationError
from core.exports import lfpse_json, nrls_csv, nrls_xml, pdf
from core.exports.mapping import ExportContext, ExportError, redact_detail, to_record
from core.exports.summary import summarise
from core.privacy import KINDS as PID_KINDS
from core.privacy import find_pid
from core.security import audit
from core.security.permissions import SAFEGUARDING_LEAD, require, require_ward
from core.services.incidents import _action_info, _detail, _load_visible, can_view
from core.taxonomy import load_taxonomy

NRLS_XML, NRLS_CSV, LFPSE_JSON, PDF_INCIDENT, PDF_WARD = "nrls-xml", "nrls-csv", "lfpse-json", "pdf-incident", "pdf-ward"
DATASET_KINDS = {NRLS_XML: nrls_xml.render, NRLS_CSV: nrls_csv.render, LFPSE_JSON: lfpse_json.render}
KINDS = (NRLS_XML, NRLS_CSV, LFPSE_JSON, PDF_INCIDENT, PDF_WARD)
PLAINTEXT_NOTICE = ("This export file is not encrypted. Anyone who can open the file can read it. Store it only "
                    "in a secure, access-controlled place, send it only by secure email, and delete it when it is "
                    "no longer needed.")


@dataclass(frozen=True)
class ExportResult:
    """What an export made: tell the user where, how many, and that the file is not encrypted."""

    batch_id: int
    kind: str
    path: Path
    incident_count: int
    sha256: str
    size_bytes: int
    free_text_included: bool
    identifiers_found: int = 0
    identifiers_redacted: bool = True
    notice: str = PLAINTEXT_NOTICE


@dataclass(frozen=True)
class IdentifierHit:
    """Something in an incident's free text that looks like a personal identifier, for the user to judge."""

    incident_id: str
    reference: str
    field: str  # description | immediate_actions | action_note
    kind: str  # core.privacy.KINDS key
    kind_label: str
    excerpt: str  # the matched text with a little context; shown on screen only, never logged


@dataclass(frozen=True)
class _Privacy:
    include_free_text: bool
    redact_identifiers: bool
    found: int = 0


# ----- services ------------------------------------------------------------------------------------------

def export_incidents(store: Store, actor: Actor, kind: str, *, out_path: str | os.PathLike, ward_id: int | None = None,
                     date_from: date | None = None, date_to: date | None = None, include_free_text: bool = True,
                     redact_identifiers: bool = True, now: datetime | None = None) -> ExportResult:
    """Export the submitted incidents the actor may see (one ward or all theirs, over a period) as
    `nrls-xml`, `nrls-csv` or `lfpse-json`. The period is inclusive, in UK local dates.

    Privacy: `redact_identifiers` (the default) replaces text that looks like an identifier (core.privacy)
    with '[removed: ...]'; pass False only after the user has seen `find_identifiers` and confirmed the
    hits are not identifying. `include_free_text=False` leaves all free text out. Both choices are audited."""
    require(actor, "export.run")
    if kind not in DATASET_KINDS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(DATASET_KINDS)}."})
    _check_period(date_from, date_to)
    generated = now or utcnow()
    with unit_of_work(store) as session:
        details = _visible_details(session, actor, ward_id=ward_id, date_from=date_from, date_to=date_to,
                                   now=generated)
        details, privacy = _apply_privacy(details, include_free_text, redact_identifiers, generated)
        ctx = _context(session, generated, date_from, date_to, include_free_text)
        tax = load_taxonomy()
        data = DATASET_KINDS[kind]((to_record(d, ctx, tax) for d in details), ctx)
        return _finish(session, actor, kind, out_path, data, [d.incident_id for d in details],
                       period=(date_from, date_to), ward_id=ward_id, privacy=privacy)


def incident_pdf(store: Store, actor: Actor, incident_id: str, out_path: str | os.PathLike, *,
                 include_free_text: bool = True, redact_identifiers: bool = True,
                 now: datetime | None = None) -> ExportResult:
    """A pseudonymous incident summary PDF for handing to a safeguarding team (actions and their status)."""
    require(actor, "export.run")
    generated = now or utcnow()
    with unit_of_work(store) as session:
        inc = _load_visible(session, actor, incident_id)
        if inc.status == "draft":
            raise ValidationError({"status": "This report is still a draft. Drafts are never exported."})
        [detail], privacy = _apply_privacy([_detail(session, inc, generated)], include_free_text,
                                           redact_identifiers, generated)
        data = pdf.incident_summary(detail, load_taxonomy(), generated_at=generated,
                                    include_free_text=include_free_text)
        return _finish(session, actor, PDF_INCIDENT, out_path, data, [detail.incident_id],
                       period=(None, None), ward_id=inc.ward_id, privacy=privacy)


def ward_report_pdf(store: Store, actor: Actor, *, ward_id: int, date_from: date, date_to: date,
                    out_path: str | os.PathLike, now: datetime | None = None) -> ExportResult:
    """A ward report PDF over a period: counts by type, pair and month, harm, and open and overdue actions."""
    require(actor, "export.run")
    _check_period(date_from, date_to)
    if date_from is None or date_to is None:
        raise ValidationError({"period": "Choose the first and last day of the report."})
    generated = now or utcnow()
    with unit_of_work(store) as session:
        ward = session.get(Ward, ward_id)
        if ward is None:
            raise NotFound("That ward does not exist.")
        details = _visible_details(session, actor, ward_id=ward_id, date_from=date_from, date_to=date_to,
                                   now=generated)
        summary = summarise(details, load_taxonomy(), ward_name=ward.name, period=(date_from, date_to),
                            now=generated)
        data = pdf.ward_report(summary, generated_at=generated)
        return _finish(session, actor, PDF_WARD, out_path, data, [d.incident_id for d in details],
                       period=(date_from, date_to), ward_id=ward_id, privacy=_Privacy(False, True))


def find_identifiers(store: Store, actor: Actor, *, ward_id: int | None = None, date_from: date | None = None,
                     date_to: date | None = None, incident_id: str | None = None,
                     now: datetime | None = None) -> list[IdentifierHit]:
    """Before exporting: what in the free text of the chosen incidents looks like a personal identifier,
    so the user can redact it (the default) or confirm it. Audited as a count, without the text."""
    require(actor, "export.run")
    _check_period(date_from, date_to)
    generated = now or utcnow()
    with unit_of_work(store) as session:
        if incident_id is not None:
            inc = _load_visible(session, actor, incident_id)
            details = [] if inc.status == "draft" else [_detail(session, inc, generated)]
        else:
            details = _visible_details(session, actor, ward_id=ward_id, date_from=date_from, date_to=date_to,
                                       now=generated)
        hits = [hit for d in details for hit in _hits(d, generated.date())]
        audit.record(session, actor, "export.scan", entity_type="incident" if incident_id else "",
                     entity_id=incident_id or "", detail={"incidents": len(details), "hits": len(hits)})
        session.commit()
        return hits


def _hits(detail: IncidentDetail, today: date):
    texts = [("description", detail.draft.description), ("immediate_actions", detail.draft.immediate_actions)]
    texts += [("action_note", a.note) for a in detail.actions if a.note]
    for field, text in texts:
        for f in find_pid(text or "", today=today):
            excerpt = text[max(0, f.start - 20):f.end + 20].replace("\n", " ")
            yield IdentifierHit(detail.incident_id, detail.reference, field, f.kind, PID_KINDS[f.kind], excerpt)


def _apply_privacy(details: list[IncidentDetail], include_free_text: bool, redact_identifiers: bool,
                   generated: datetime) -> tuple[list[IncidentDetail], _Privacy]:
    """Redact identifier-like text unless the user confirmed it; count what was found either way."""
    found, out = 0, []
    for d in details:
        redacted, n = redact_detail(d, generated.date())
        found += n
        out.append(redacted if redact_identifiers else d)
    return out, _Privacy(include_free_text, redact_identifiers, found)


# ----- loading --------------------------------------------------------------------------------------------

def _check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"period": "The start of the period is after its end."})


def _utc_bound(day: date) -> str:
    return to_db(datetime.combine(day, time.min, tzinfo=LONDON))


def _scope(stmt, actor: Actor, ward_id: int | None, date_from: date | None, date_to: date | None):
    """Limit a query joined to Incident to submitted incidents on the chosen wards and period."""
    stmt = stmt.where(Incident.status != "draft")
    if ward_id is not None:
        require_ward(actor, ward_id)
        stmt = stmt.where(Incident.ward_id == ward_id)
    elif actor.role != SAFEGUARDING_LEAD:
        stmt = stmt.where(Incident.ward_id.in_(actor.ward_ids or (-1,)))
    if date_from is not None:
        stmt = stmt.where(Incident.occurred_at >= _utc_bound(date_from))
    if date_to is not None:
        stmt = stmt.where(Incident.occurred_at < _utc_bound(date_to + timedelta(days=1)))
    return stmt


def _visible_details(session, actor: Actor, *, ward_id, date_from, date_to, now: datetime) -> list[IncidentDetail]:
    """Every submitted incident in scope that the actor may see, as DTOs, in a handful of queries."""
    def scoped(stmt):
        return _scope(stmt, actor, ward_id, date_from, date_to)

    incidents = session.scalars(scoped(select(Incident)).order_by(Incident.occurred_at, Incident.reference)).all()
    people: dict[str, list[PersonInvolved]] = defaultdict(list)
    for p in session.scalars(scoped(select(PersonInvolved).join(Incident, PersonInvolved.incident_id == Incident.id))
                             .order_by(PersonInvolved.incident_id, PersonInvolved.position)):
        people[p.incident_id].append(p)
    types: dict[str, list[str]] = defaultdict(list)
    for incident_id, code in session.execute(scoped(
            select(IncidentType.incident_id, IncidentType.code).join(Incident, IncidentType.incident_id == Incident.id))
            .order_by(IncidentType.incident_id, IncidentType.code)):
        types[incident_id].append(code)
    actions: dict[str, list[SafeguardingAction]] = defaultdict(list)
    for a in session.scalars(scoped(select(SafeguardingAction).join(Incident,
                                                                   SafeguardingAction.incident_id == Incident.id))
                             .order_by(SafeguardingAction.due_at, SafeguardingAction.id)):
        actions[a.incident_id].append(a)
    wards = {w.id: w.name for w in session.scalars(select(Ward))}
    details = []
    for inc in incidents:
        named = {p.linked_user_id for p in people[inc.id] if p.linked_user_id}
        if can_view(actor, inc, named):
            details.append(_to_detail(inc, people[inc.id], types[inc.id], actions[inc.id], wards, now))
    return details


def _to_detail(inc: Incident, people, types, actions, wards, now: datetime) -> IncidentDetail:
    draft = IncidentDraft(
        ward_id=inc.ward_id, types=tuple(types), occurred_at=from_db(inc.occurred_at),
        occurred_precision=inc.occurred_precision, shift=inc.shift, location=inc.location,
        people=tuple(PersonDraft(
            role=p.role, person_type=p.person_type, local_ref=p.local_ref, sex=p.sex, age_years=p.age_years,
            age_band=p.age_band, detained=p.detained, capacity_concern=p.capacity_concern,
            care_support_needs=p.care_support_needs, police_wishes=p.police_wishes, harm_physical=p.harm_physical,
            harm_psychological=p.harm_psychological, linked_user_id=p.linked_user_id) for p in people),
        flags=tuple(json.loads(inc.flags)), description=inc.description, immediate_actions=inc.immediate_actions)
    return IncidentDetail(
        inc.id, inc.reference, inc.ward_id, wards.get(inc.ward_id, ""), inc.status, inc.reporter_id, draft,
        from_db(inc.reported_at), from_db(inc.submitted_at), from_db(inc.closed_at), inc.pair, inc.harm_physical,
        inc.harm_psychological, inc.pd09, inc.restricted, inc.harm_confirmation_needed, inc.feedback_note,
        inc.version, tuple(_action_info(a, inc.reference, now) for a in actions))


def _context(session, generated: datetime, date_from, date_to, include_free_text: bool) -> ExportContext:
    org = session.scalar(select(Organisation))
    services = {w.id: w.service_type for w in session.scalars(select(Ward))}
    return ExportContext(ods_code=org.ods_code if org else "", generated_at=generated, period_start=date_from,
                         period_end=date_to, ward_service_types=services, include_free_text=include_free_text)


# ----- writing and recording ---------------------------------------------------------------------------------

def write_atomically(out_path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `out_path` in one step: a temporary file in the same folder, fsync, then replace.
    Nothing is written anywhere else; on failure the temporary file is removed and ExportError raised."""
    dest = Path(out_path).expanduser().absolute()
    if not dest.parent.is_dir():
        raise ExportError(f"The folder {dest.parent} does not exist. Choose another place to save the export.")
    if dest.is_dir():
        raise ExportError(f"{dest} is a folder. Give a file name for the export.")
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, dest)
        tmp_name = None
    except OSError:
        raise ExportError(f"Lantern could not write the export to {dest.parent} (the disk may be full, read-only "
                          "or the file open in another program). Nothing was exported.") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
    return dest


def _finish(session, actor: Actor, kind: str, out_path, data: bytes, incident_ids: list[str], *,
            period: tuple[date | None, date | None], ward_id: int | None, privacy: _Privacy) -> ExportResult:
    """Write the file, then record the batch and the audit event in the caller's transaction and commit.
    If the record cannot be saved, the file is removed again: no export goes unaudited."""
    digest = hashlib.sha256(data).hexdigest()
    dest = write_atomically(out_path, data)
    try:
        batch = ExportBatch(kind=kind, created_by=actor.user_id, created_at=now_db(), incident_count=len(incident_ids),
                            period_from=period[0].isoformat() if period[0] else None,
                            period_to=period[1].isoformat() if period[1] else None,
                            filename=str(dest)[:260], sha256=digest)
        session.add(batch)
        session.flush()
        audit.record(session, actor, "export." + kind.replace("-", "_"), entity_type="export_batch",
                     entity_id=str(batch.id), detail={
                         "kind": kind, "count": len(incident_ids), "incident_ids": incident_ids,
                         "ward_id": ward_id, "period_from": batch.period_from, "period_to": batch.period_to,
                         "free_text": "included" if privacy.include_free_text else "withheld",
                         "identifiers_found": privacy.found,
                         "identifiers": "redacted" if privacy.redact_identifiers else "kept_by_user",
                         "file": dest.name,
                         "sha256": digest, "bytes": len(data)})
        session.commit()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return ExportResult(batch.id, kind, dest, len(incident_ids), digest, len(data), privacy.include_free_text,
                        privacy.found, privacy.redact_identifiers)
