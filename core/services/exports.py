"""Export services: NRLS-dataset XML and CSV, LFPSE-aligned JSON, incident and ward PDFs (core layer).

One user action, one service call. Each requires `export.run`, exports only submitted incidents the actor
may see, builds the file in memory, writes it once to the chosen path (a temporary file beside it, fsync,
replace; nothing anywhere else), then records an ExportBatch with its items (incident and version) and an
audit event `export.<kind>` holding counts, ids, the file name and its SHA-256, never incident text.
Reading happens in a read transaction, so a long export never holds the write lock; the record is one
short write transaction. `iter_export` is the long-running form: it yields Progress and honours a
CancelToken (cancelling writes nothing); the CLI and the GUI both drive it.
The file itself is NOT encrypted: callers must tell the user so (PLAINTEXT_NOTICE).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.clock import LONDON, from_db, now_db, to_db, utcnow
from core.db.models import (
    ExportBatch,
    ExportBatchItem,
    Incident,
    IncidentType,
    Organisation,
    PersonInvolved,
    SafeguardingAction,
    Ward,
)
from core.db.store import Store, unit_of_work
from core.dto import Actor, IncidentDetail, IncidentDraft, PersonDraft
from core.errors import NotFound, ValidationError
from core.exports import lfpse_json, nrls_csv, nrls_xml, pdf
from core.exports.mapping import ExportContext, ExportError, free_text_fields, identifier_key, redact_detail, to_record
from core.exports.progress import CancelToken, Progress, drive
from core.exports.summary import summarise
from core.privacy import KINDS as PID_KINDS
from core.privacy import find_pid
from core.security import audit
from core.security.permissions import SAFEGUARDING_LEAD, require, require_ward
from core.services.incidents import action_info, can_view, detail_of, load_visible
from core.taxonomy import load_taxonomy

NRLS_XML, NRLS_CSV, LFPSE_JSON, PDF_INCIDENT, PDF_WARD = "nrls-xml", "nrls-csv", "lfpse-json", "pdf-incident", "pdf-ward"
DATASET_KINDS = {NRLS_XML: nrls_xml.render, NRLS_CSV: nrls_csv.render, LFPSE_JSON: lfpse_json.render}
KINDS = (NRLS_XML, NRLS_CSV, LFPSE_JSON, PDF_INCIDENT, PDF_WARD)
KIND_LABELS = {NRLS_XML: "NRLS dataset (XML)", NRLS_CSV: "NRLS dataset (CSV spreadsheet)",
               LFPSE_JSON: "LFPSE-aligned (FHIR JSON)", PDF_WARD: "Ward report (PDF)",
               PDF_INCIDENT: "One incident, for a safeguarding team (PDF)"}
FILE_SUFFIXES = {NRLS_XML: ".xml", NRLS_CSV: ".csv", LFPSE_JSON: ".json", PDF_WARD: ".pdf", PDF_INCIDENT: ".pdf"}
PLAINTEXT_NOTICE = ("This export file is not encrypted. Anyone who can open the file can read it. Store it only "
                    "in a secure, access-controlled place, send it only by secure email, and delete it when it is "
                    "no longer needed.")
PROGRESS_EVERY = 250  # records between progress reports and cancel checks


@dataclass(frozen=True)
class ExportRequest:
    """What the user chose: the kind, the scope and the privacy choices. Dialogs and the CLI build one.

    `keep_identifiers` names the identifier hits (IdentifierHit.key) the user looked at and confirmed are
    not identifying; every other hit is redacted. `redact_identifiers=False` keeps every hit."""

    kind: str
    out_path: Path
    ward_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    incident_id: str | None = None
    include_free_text: bool = True
    redact_identifiers: bool = True
    keep_identifiers: frozenset[str] = field(default_factory=frozenset)


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
    identifiers_kept: int = 0
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
    key: str = ""  # pass back in ExportRequest.keep_identifiers to keep this hit


@dataclass(frozen=True)
class ReexportFlag:
    """A submitted incident changed after it was last exported as this kind."""

    incident_id: str
    reference: str
    exported_version: int
    current_version: int
    exported_at: datetime
    batch_id: int


@dataclass(frozen=True)
class _Privacy:
    include_free_text: bool
    redact_identifiers: bool
    found: int = 0
    kept: int = 0


# ----- services ------------------------------------------------------------------------------------------

def iter_export(store: Store, actor: Actor, request: ExportRequest, *, cancel: CancelToken | None = None,
                now: datetime | None = None) -> Generator[Progress, None, ExportResult]:
    """Make one export of any kind, yielding Progress as it goes; returns the ExportResult (use
    `core.exports.progress.drive`). Cancelling (the token) stops before the file is written: nothing is
    written and nothing recorded. The period is inclusive, in UK local dates."""
    require(actor, "export.run")
    cancel = cancel or CancelToken()
    kind = request.kind
    if kind not in KINDS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(KINDS)}."})
    _check_period(request.date_from, request.date_to)
    if kind == PDF_WARD and (request.ward_id is None or request.date_from is None or request.date_to is None):
        raise ValidationError({"period": "Choose a ward and the first and last day of the report."})
    if kind == PDF_INCIDENT and not request.incident_id:
        raise ValidationError({"incident": "Choose the incident to export."})
    generated = now or utcnow()
    yield Progress(0, 0, "Reading the records")
    with unit_of_work(store, write=False) as session:
        if kind == PDF_INCIDENT:
            inc = load_visible(session, actor, request.incident_id)
            if inc.status == "draft":
                raise ValidationError({"status": "This report is still a draft. Drafts are never exported."})
            details = [detail_of(session, inc, generated)]
            ward_id = inc.ward_id
        else:
            ward_id = request.ward_id
            if kind == PDF_WARD and session.get(Ward, ward_id) is None:
                raise NotFound("That ward does not exist.")
            details = _visible_details(session, actor, ward_id=ward_id, date_from=request.date_from,
                                       date_to=request.date_to, now=generated)
        ctx = _context(session, generated, request.date_from, request.date_to, request.include_free_text)
        ward_name = session.get(Ward, ward_id).name if kind == PDF_WARD else ""
        exported = _versions(session, [d.incident_id for d in details])
    cancel.check()
    total = len(details)
    tax = load_taxonomy()
    if kind == PDF_WARD:
        privacy = _Privacy(False, True)
        yield Progress(0, total, "Counting")
        summary = summarise(details, tax, ward_name=ward_name, period=(request.date_from, request.date_to),
                            now=generated)
        cancel.check()
        yield Progress(0, 0, "Drawing the report")
        data = pdf.ward_report(summary, generated_at=generated)
    else:
        keep = _keep_for(request)
        prepared, found, kept = [], 0, 0
        for done, detail in enumerate(details):
            if done % PROGRESS_EVERY == 0:
                cancel.check()
                yield Progress(done, total, "Checking and preparing the records")
            if keep is None:  # the user confirmed every hit: count them, remove none
                n = k = sum(1 for _f in _findings(detail, generated.date()))
            else:
                detail, n, k = redact_detail(detail, generated.date(), keep)
            found, kept = found + n, kept + k
            prepared.append(detail if kind == PDF_INCIDENT else to_record(detail, ctx, tax))
        privacy = _Privacy(request.include_free_text, request.redact_identifiers, found, kept)
        cancel.check()
        if kind == PDF_INCIDENT:
            yield Progress(0, 0, "Drawing the summary")
            data = pdf.incident_summary(prepared[0], tax, generated_at=generated,
                                        include_free_text=request.include_free_text)
        else:
            yield Progress(0, 0, "Building the file" + (" and checking it against the schema"
                                                        if kind == NRLS_XML else ""))
            data = DATASET_KINDS[kind](prepared, ctx)
    cancel.check()
    yield Progress(total, total, "Saving the file")
    cancel.check()
    return _finish(store, actor, kind, request.out_path, data, exported, period=(request.date_from, request.date_to),
                   ward_id=ward_id, privacy=privacy)


def export_incidents(store: Store, actor: Actor, kind: str, *, out_path: str | os.PathLike, ward_id: int | None = None,
                     date_from: date | None = None, date_to: date | None = None, include_free_text: bool = True,
                     redact_identifiers: bool = True, keep_identifiers: frozenset[str] = frozenset(),
                     now: datetime | None = None) -> ExportResult:
    """Export the submitted incidents the actor may see (one ward or all theirs, over a period) as
    `nrls-xml`, `nrls-csv` or `lfpse-json`, in one go (see iter_export for progress and cancel).

    Privacy: `redact_identifiers` (the default) replaces text that looks like an identifier (core.privacy)
    with '[removed: ...]', except the hits in `keep_identifiers`; pass False only after the user has seen
    `find_identifiers` and confirmed every hit. `include_free_text=False` leaves all free text out. Both
    choices are audited."""
    if kind not in DATASET_KINDS:
        require(actor, "export.run")
        raise ValidationError({"kind": f"Choose one of: {', '.join(DATASET_KINDS)}."})
    request = ExportRequest(kind, Path(out_path), ward_id, date_from, date_to, None, include_free_text,
                            redact_identifiers, frozenset(keep_identifiers))
    return drive(iter_export(store, actor, request, now=now))


def incident_pdf(store: Store, actor: Actor, incident_id: str, out_path: str | os.PathLike, *,
                 include_free_text: bool = True, redact_identifiers: bool = True,
                 keep_identifiers: frozenset[str] = frozenset(), now: datetime | None = None) -> ExportResult:
    """A pseudonymous incident summary PDF for handing to a safeguarding team (actions and their status)."""
    request = ExportRequest(PDF_INCIDENT, Path(out_path), incident_id=incident_id,
                            include_free_text=include_free_text, redact_identifiers=redact_identifiers,
                            keep_identifiers=frozenset(keep_identifiers))
    return drive(iter_export(store, actor, request, now=now))


def ward_report_pdf(store: Store, actor: Actor, *, ward_id: int, date_from: date, date_to: date,
                    out_path: str | os.PathLike, now: datetime | None = None) -> ExportResult:
    """A ward report PDF over a period: counts by type, pair and month, harm, and open and overdue actions."""
    request = ExportRequest(PDF_WARD, Path(out_path), ward_id=ward_id, date_from=date_from, date_to=date_to)
    return drive(iter_export(store, actor, request, now=now))


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
            inc = load_visible(session, actor, incident_id)
            details = [] if inc.status == "draft" else [detail_of(session, inc, generated)]
        else:
            details = _visible_details(session, actor, ward_id=ward_id, date_from=date_from, date_to=date_to,
                                       now=generated)
        hits = [hit for d in details for hit in _hits(d, generated.date())]
        audit.record(session, actor, "export.scan", entity_type="incident" if incident_id else "",
                     entity_id=incident_id or "", detail={"incidents": len(details), "hits": len(hits)})
        session.commit()
        return hits


def incidents_needing_reexport(store: Store, actor: Actor, kind: str, *, ward_id: int | None = None,
                               date_from: date | None = None, date_to: date | None = None) -> list[ReexportFlag]:
    """Submitted incidents the actor may see that changed (a newer version, or updated later) after the
    latest export of this kind that held them: they should be exported again. Oldest export first."""
    require(actor, "export.run")
    if kind not in KINDS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(KINDS)}."})
    _check_period(date_from, date_to)
    with unit_of_work(store, write=False) as session:
        latest = (select(ExportBatchItem.incident_id, func.max(ExportBatchItem.batch_id).label("batch_id"))
                  .join(ExportBatch, ExportBatch.id == ExportBatchItem.batch_id)
                  .where(ExportBatch.kind == kind).group_by(ExportBatchItem.incident_id).subquery())
        stmt = (select(Incident, ExportBatchItem.incident_version, ExportBatch.created_at, ExportBatch.id)
                .join(latest, latest.c.incident_id == Incident.id)
                .join(ExportBatchItem, (ExportBatchItem.incident_id == Incident.id)
                      & (ExportBatchItem.batch_id == latest.c.batch_id))
                .join(ExportBatch, ExportBatch.id == ExportBatchItem.batch_id)
                .where((Incident.version > ExportBatchItem.incident_version)
                       | (Incident.updated_at > ExportBatchItem.incident_updated_at)))
        rows = session.execute(_scope(stmt, actor, ward_id, date_from, date_to)
                               .order_by(ExportBatch.created_at, Incident.reference)).all()
        flags = []
        for inc, version, created_at, batch_id in rows:
            if can_view(actor, inc, _named(session, inc.id)):
                flags.append(ReexportFlag(inc.id, inc.reference, version, inc.version, from_db(created_at), batch_id))
        return flags


def incident_id_for_reference(store: Store, actor: Actor, reference: str) -> str:
    """The id of a submitted incident the actor may export, from its reference (e.g. LAN-2026-00012)."""
    require(actor, "export.run")
    with unit_of_work(store, write=False) as session:
        inc = session.scalar(select(Incident).where(Incident.reference == reference.strip().upper()))
        if inc is None or not can_view(actor, inc, _named(session, inc.id)):
            raise NotFound(f"There is no incident {reference.strip()} that you can export.")
        return inc.id


def _versions(session, incident_ids: list[str]) -> dict[str, tuple[int, str]]:
    """incident id -> (version, updated_at) as read now, in export order."""
    found = {}
    for start in range(0, len(incident_ids), 500):  # SQLite's bound-parameter limit
        chunk = incident_ids[start:start + 500]
        found.update({i: (v, u) for i, v, u in session.execute(
            select(Incident.id, Incident.version, Incident.updated_at).where(Incident.id.in_(chunk)))})
    return {i: found[i] for i in incident_ids}


def _named(session, incident_id: str) -> set[str]:
    return set(session.scalars(select(PersonInvolved.linked_user_id).where(
        PersonInvolved.incident_id == incident_id, PersonInvolved.linked_user_id.is_not(None))))


def _keep_for(request: ExportRequest) -> frozenset[str] | None:
    """The hits to keep, or None when the user confirmed every hit (nothing is redacted)."""
    return request.keep_identifiers if request.redact_identifiers else None


def _findings(detail: IncidentDetail, today: date):
    for _key_field, _field, text in free_text_fields(detail):
        yield from find_pid(text or "", today=today)


def _hits(detail: IncidentDetail, today: date):
    for key_field, field_name, text in free_text_fields(detail):
        for f in find_pid(text or "", today=today):
            excerpt = text[max(0, f.start - 20):f.end + 20].replace("\n", " ")
            yield IdentifierHit(detail.incident_id, detail.reference, field_name, f.kind, PID_KINDS[f.kind], excerpt,
                                identifier_key(detail.incident_id, key_field, f.start, f.end, f.kind))


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
        inc.version, tuple(action_info(a, inc.reference, now) for a in actions))


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


def _finish(store: Store, actor: Actor, kind: str, out_path, data: bytes, exported: dict[str, tuple[int, str]], *,
            period: tuple[date | None, date | None], ward_id: int | None, privacy: _Privacy) -> ExportResult:
    """Write the file, then record the batch, its items (incident id -> version and updated_at as read) and
    the audit event in one write transaction. If the record cannot be saved, the file is removed again:
    no export goes unaudited."""
    digest = hashlib.sha256(data).hexdigest()
    incident_ids = list(exported)
    dest = write_atomically(out_path, data)
    try:
        with unit_of_work(store) as session:
            batch = ExportBatch(kind=kind, created_by=actor.user_id, created_at=now_db(),
                                incident_count=len(incident_ids),
                                period_from=period[0].isoformat() if period[0] else None,
                                period_to=period[1].isoformat() if period[1] else None,
                                filename=str(dest)[:260], sha256=digest)
            session.add(batch)
            session.flush()
            session.add_all(ExportBatchItem(batch_id=batch.id, incident_id=i, incident_version=version,
                                            incident_updated_at=updated_at)
                            for i, (version, updated_at) in exported.items())
            identifiers = ("redacted" if privacy.redact_identifiers and not privacy.kept else
                           "some_kept_by_user" if privacy.redact_identifiers else "kept_by_user")
            audit.record(session, actor, "export." + kind.replace("-", "_"), entity_type="export_batch",
                         entity_id=str(batch.id), detail={
                             "kind": kind, "count": len(incident_ids), "incident_ids": incident_ids,
                             "ward_id": ward_id, "period_from": batch.period_from, "period_to": batch.period_to,
                             "free_text": "included" if privacy.include_free_text else "withheld",
                             "identifiers_found": privacy.found, "identifiers_kept": privacy.kept,
                             "identifiers": identifiers, "file": dest.name, "sha256": digest, "bytes": len(data)})
            session.commit()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return ExportResult(batch.id, kind, dest, len(incident_ids), digest, len(data), privacy.include_free_text,
                        privacy.found, privacy.redact_identifiers, privacy.kept)
