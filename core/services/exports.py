"""Export services: NRLS-dataset XML and CSV, LFPSE-aligned JSON, incident and ward PDFs (core layer).

One user action, one service call. Each requires `export.run` and exports only submitted incidents the actor
may see, chosen by the one visibility predicate (core.services.visibility) inside the export's own query. The
file streams to a temporary file beside the chosen path (fsync, replace; nothing anywhere else), then an
ExportBatch is recorded, with each incident's latest export of the kind (ExportLatest) and an audit event
`export.<kind>` holding counts, a digest of the ids, the file name and its SHA-256, never incident text.
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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.clock import LONDON, from_db, now_db, to_db, utcnow
from core.db import audit
from core.db.models import (
    ExportBatch,
    ExportLatest,
    Incident,
    IncidentType,
    Organisation,
    PersonInvolved,
    SafeguardingAction,
    Ward,
)
from core.db.store import Store, unit_of_work
from core.dto import ActionInfo, Actor, IncidentDetail, IncidentDraft, PersonDraft
from core.errors import NotFound, ValidationError
from core.exports import lfpse_json, nrls_csv, nrls_xml
from core.exports.mapping import (
    CANDOUR_RULES,
    CQC_RULES,
    POLICE_RULES,
    SAFEGUARDING_RULES,
    ExportContext,
    ExportError,
    free_text_fields,
    identifier_key,
    redact_detail,
    redact_text,
    to_record,
)
from core.exports.progress import CancelToken, Progress, drive
from core.exports.summary import Tally
from core.privacy import KINDS as PID_KINDS
from core.privacy import find_pid
from core.security.permissions import require, require_ward
from core.security.refusals import audited
from core.services import export_choice
from core.services.engines import is_server
from core.services.incidents import detail_of, load_visible
from core.services.visibility import visible_incidents
from core.taxonomy import load_taxonomy
from core.taxonomy.ods import ODS_CODE_RULE, clean_ods_code

NRLS_XML, NRLS_CSV, LFPSE_JSON, PDF_INCIDENT, PDF_WARD = "nrls-xml", "nrls-csv", "lfpse-json", "pdf-incident", "pdf-ward"
DATASET_KINDS = (NRLS_XML, NRLS_CSV, LFPSE_JSON)
KINDS = (NRLS_XML, NRLS_CSV, LFPSE_JSON, PDF_INCIDENT, PDF_WARD)
KIND_LABELS = {NRLS_XML: "NRLS dataset (XML)", NRLS_CSV: "NRLS dataset (CSV spreadsheet)",
               LFPSE_JSON: "LFPSE-aligned (FHIR JSON)", PDF_WARD: "Ward report (PDF)",
               PDF_INCIDENT: "One incident, for a safeguarding team (PDF)"}
FILE_SUFFIXES = {NRLS_XML: ".xml", NRLS_CSV: ".csv", LFPSE_JSON: ".json", PDF_WARD: ".pdf", PDF_INCIDENT: ".pdf"}
PLAINTEXT_NOTICE = ("This export file is not encrypted. Anyone who can open the file can read it. Store it only "
                    "in a secure, access-controlled place, send it only by secure email, and delete it when it is "
                    "no longer needed.")
CHUNK = 500  # incidents read, mapped and written at a time (also SQLite's bound-parameter budget)
WRITERS = {NRLS_XML: nrls_xml.Writer, NRLS_CSV: nrls_csv.Writer, LFPSE_JSON: lfpse_json.Writer}


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

@audited
def iter_export(store: Store, actor: Actor, request: ExportRequest, *, cancel: CancelToken | None = None,
                now: datetime | None = None) -> Generator[Progress, None, ExportResult]:
    """Make one export of any kind, yielding Progress as it goes; returns the ExportResult (use
    `core.exports.progress.drive`). Cancelling (the token) stops before the file is kept: nothing is
    written and nothing recorded. The period is inclusive, in UK local dates.

    The records stream: plain rows are read a chunk at a time (CHUNK incidents, each table in one query
    per chunk, only the columns the format needs), mapped and written to a temporary file beside the
    destination, so memory does not grow with the store. One read transaction covers it all."""
    require(actor, "export.run")
    cancel = cancel or CancelToken()
    _check_request(request)
    generated = now or utcnow()
    yield Progress(0, 0, "Reading the records")
    # On a server the selection is kept in this transaction (core.services.export_choice) and recorded in it.
    with unit_of_work(store, write=is_server(store)) as session:
        chosen, ward_id, ward_name = _select(session, actor, request, generated)
        ctx = _context(session, generated, request.date_from, request.date_to, request.include_free_text)
        if request.kind in DATASET_KINDS and not clean_ods_code(ctx.ods_code):
            raise ExportError(f"The organisation's ODS code ({ctx.ods_code or 'none'}) is not one the national "
                              f"dataset can carry. {ODS_CODE_RULE} Ask your administrator to correct it.")
        cancel.check()
        with _Output(request.out_path) as out:
            privacy = yield from _write(session, actor, request, chosen, ctx, out, cancel,
                                        ward_name=ward_name, generated=generated)
            cancel.check()
            if request.kind == NRLS_XML:
                yield Progress(chosen.count, chosen.count, "Checking the file against the schema")
                out.flush()
                nrls_xml.check(out.temp_path)
            cancel.check()
            yield Progress(chosen.count, chosen.count, "Saving the file")
            cancel.check()
            out.keep()
        made = _Made(request.kind, out, chosen, (request.date_from, request.date_to), ward_id, privacy)
        if chosen.in_transaction:
            return _finish(session, actor, made)
    with unit_of_work(store) as session:
        return _finish(session, actor, made)


def _check_request(request: ExportRequest) -> None:
    kind = request.kind
    if kind not in KINDS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(KINDS)}."})
    _check_period(request.date_from, request.date_to)
    if kind == PDF_WARD and (request.ward_id is None or request.date_from is None or request.date_to is None):
        raise ValidationError({"period": "Choose a ward and the first and last day of the report."})
    if kind == PDF_INCIDENT and not request.incident_id:
        raise ValidationError({"incident": "Choose the incident to export."})


def _select(session, actor: Actor, request: ExportRequest, generated: datetime):
    """The incidents to export (export_choice: each one's id, version and updated_at, in export order), and the
    ward (id, name)."""
    if request.kind == PDF_INCIDENT:
        inc = load_visible(session, actor, request.incident_id)
        if inc.status == "draft":
            raise ValidationError({"status": "This report is still a draft. Drafts are never exported."})
        return export_choice.Listed([(inc.id, inc.version, inc.updated_at)]), inc.ward_id, ""
    ward_name = ""
    if request.kind == PDF_WARD:
        ward = session.get(Ward, request.ward_id)
        if ward is None:
            raise NotFound("That ward does not exist.")
        ward_name = ward.name
    chosen = _choose(session, actor, ward_id=request.ward_id, date_from=request.date_from, date_to=request.date_to)
    return chosen, request.ward_id, ward_name


def _write(session, actor: Actor, request: ExportRequest, chosen, ctx: ExportContext, out: _Output,
           cancel: CancelToken, *, ward_name: str, generated: datetime):
    """Stream the chosen incidents into `out` in the request's format; yields Progress, returns _Privacy."""
    kind, total, tax = request.kind, chosen.count, load_taxonomy()
    if kind in (PDF_WARD, PDF_INCIDENT):
        from core.exports import pdf  # reportlab and its fonts cost a quarter of a second: only for a PDF
    if kind == PDF_WARD:
        tally = Tally(tax, generated)  # each chunk counted as it is read: no incident kept
        for done, chunk in enumerate(chosen.chunks(CHUNK)):
            cancel.check()
            yield Progress(done * CHUNK, total, "Counting")
            for detail in _load(session, chunk, generated, actions="open"):
                tally.add(detail)
        summary = tally.summary(ward_name=ward_name, period=(request.date_from, request.date_to))
        cancel.check()
        yield Progress(total, total, "Drawing the report")
        out.write(pdf.ward_report(summary, generated_at=generated))
        return _Privacy(False, True)
    keep, today = _keep_for(request), generated.date()
    if kind == PDF_INCIDENT:
        detail = detail_of(session, session.get(Incident, chosen.rows[0][0]), generated)
        if keep is None:  # the user confirmed every hit: count them, remove none
            found = kept = sum(1 for _f in _findings(detail, today))
        else:
            detail, found, kept = redact_detail(detail, today, keep)
        yield Progress(1, 1, "Drawing the summary")
        out.write(pdf.incident_summary(detail, tax, generated_at=generated,
                                       include_free_text=request.include_free_text))
        return _Privacy(request.include_free_text, request.redact_identifiers, found, kept)
    writer = WRITERS[kind](out, ctx, total)
    found = kept = 0
    for done, chunk in enumerate(chosen.chunks(CHUNK)):
        cancel.check()
        yield Progress(done * CHUNK, total, "Checking and preparing the records")
        for detail in _load(session, chunk, generated, actions="flags"):
            if request.include_free_text:
                detail, n, k = _redact_carried(detail, today, keep)
                found, kept = found + n, kept + k
            writer.add(to_record(detail, ctx, tax))
    yield Progress(total, total, "Building the file")
    writer.end()
    return _Privacy(request.include_free_text, request.redact_identifiers, found, kept)


def _redact_carried(detail: IncidentDetail, today: date, keep: frozenset[str] | None):
    """Screen the free text the national datasets carry (the description and the immediate actions), once
    per text; returns (detail, found, kept). keep=None: the user confirmed every hit, nothing is removed."""
    draft = detail.draft
    texts = []
    found = kept = 0
    for name, text in (("description", draft.description), ("immediate_actions", draft.immediate_actions)):
        if keep is None:
            n = len(find_pid(text, today=today))
            texts.append(text)
            found, kept = found + n, kept + n
            continue
        text, n, k = redact_text(text, today, incident_id=detail.incident_id, field=name, keep=keep)
        texts.append(text)
        found, kept = found + n, kept + k
    if found == kept:
        return detail, found, kept
    return replace(detail, draft=replace(draft, description=texts[0], immediate_actions=texts[1])), found, kept


@audited
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


@audited
def find_identifiers(store: Store, actor: Actor, *, ward_id: int | None = None, date_from: date | None = None,
                     date_to: date | None = None, incident_id: str | None = None,
                     now: datetime | None = None) -> list[IdentifierHit]:
    """Before exporting: what in the free text of the chosen incidents looks like a personal identifier,
    so the user can redact it (the default) or confirm it. Audited as a count, without the text."""
    require(actor, "export.run")
    _check_period(date_from, date_to)
    with unit_of_work(store) as session:
        hits = identifiers_in(session, actor, ward_id=ward_id, date_from=date_from, date_to=date_to,
                              incident_id=incident_id, now=now)
        session.commit()
        return hits


def identifiers_in(session, actor: Actor, *, ward_id, date_from, date_to, incident_id, now=None) -> list[IdentifierHit]:
    """find_identifiers in the caller's write transaction (it writes the scan's audit row; the caller commits)."""
    generated = now or utcnow()
    if incident_id is not None:
        inc = load_visible(session, actor, incident_id)
        details = [] if inc.status == "draft" else [detail_of(session, inc, generated)]
        count = len(details)
    else:
        chosen = _choose(session, actor, ward_id=ward_id, date_from=date_from, date_to=date_to)
        details = (d for chunk in chosen.chunks(CHUNK) for d in _load(session, chunk, generated, actions="notes"))
        count = chosen.count
    hits = [hit for d in details for hit in _hits(d, generated.date())]
    audit.record(session, actor, "export.scan", entity_type="incident" if incident_id else "",
                 entity_id=incident_id or "", detail={"incidents": count, "hits": len(hits)})
    return hits


def incidents_needing_reexport(store: Store, actor: Actor, kind: str, *, ward_id: int | None = None,
                               date_from: date | None = None, date_to: date | None = None) -> list[ReexportFlag]:
    """Submitted incidents the actor may see that changed (a newer version, or updated later) after the
    latest export of this kind that held them: they should be exported again. Oldest export first."""
    require(actor, "export.run")
    check_kind_and_period(kind, date_from, date_to)
    with unit_of_work(store, write=False) as session:
        return reexport_in(session, actor, kind, ward_id=ward_id, date_from=date_from, date_to=date_to)


def check_kind_and_period(kind: str, date_from: date | None, date_to: date | None) -> None:
    if kind not in KINDS:
        raise ValidationError({"kind": f"Choose one of: {', '.join(KINDS)}."})
    _check_period(date_from, date_to)


def reexport_in(session, actor: Actor, kind: str, *, ward_id, date_from, date_to) -> list[ReexportFlag]:
    """incidents_needing_reexport in the caller's transaction."""
    stmt = (select(Incident.id, Incident.reference, ExportLatest.incident_version, Incident.version,
                   ExportBatch.created_at, ExportBatch.id)
            .join(ExportLatest, (ExportLatest.incident_id == Incident.id) & (ExportLatest.kind == kind))
            .join(ExportBatch, ExportBatch.id == ExportLatest.batch_id)
            .where((Incident.version > ExportLatest.incident_version)
                   | (Incident.updated_at > ExportLatest.incident_updated_at)))
    rows = session.execute(_scope(stmt, session, actor, ward_id, date_from, date_to)
                           .order_by(ExportBatch.created_at, Incident.reference)).all()
    return [ReexportFlag(i, ref, exported, current, from_db(created_at), batch_id)
            for i, ref, exported, current, created_at, batch_id in rows]


def incident_id_for_reference(store: Store, actor: Actor, reference: str) -> str:
    """The id of a submitted incident the actor may export, from its reference (e.g. LAN-2026-00012)."""
    require(actor, "export.run")
    with unit_of_work(store, write=False) as session:
        return id_for_reference_in(session, actor, reference)


def id_for_reference_in(session, actor: Actor, reference: str) -> str:
    # The single-read rule (core.services.visibility, reporter included); a draft is refused when exported.
    found = session.scalar(select(Incident.id).where(Incident.reference == reference.strip().upper(),
                                                     visible_incidents(session, actor, ward_only=False)))
    if found is None:
        raise NotFound(f"There is no incident {reference.strip()} that you can export.")
    return found


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


def _scope(stmt, session, actor: Actor, ward_id: int | None, date_from: date | None, date_to: date | None):
    """Limit a query joined to Incident to the submitted incidents the actor may see (the one visibility
    predicate, core.services.visibility, on their wards), on the chosen ward and in the period."""
    if ward_id is not None:
        require_ward(actor, ward_id)
    stmt = stmt.where(visible_incidents(session, actor, ward_id=ward_id))
    if date_from is not None:
        stmt = stmt.where(Incident.occurred_at >= _utc_bound(date_from))
    if date_to is not None:
        stmt = stmt.where(Incident.occurred_at < _utc_bound(date_to + timedelta(days=1)))
    return stmt


def _choose(session, actor: Actor, *, ward_id, date_from, date_to):
    """Every submitted incident in scope that the actor may see, in export order (export_choice), from one query
    over the incident rows: the visibility predicate is part of it, no per-row check."""
    rows = _scope(select(Incident.id, Incident.version, Incident.updated_at), session, actor, ward_id, date_from,
                  date_to)
    return export_choice.choose(session.connection(), rows, (Incident.occurred_at, Incident.reference))


_INCIDENT_COLUMNS = (Incident.id, Incident.reference, Incident.ward_id, Incident.status, Incident.reporter_id,
                     Incident.occurred_at, Incident.occurred_precision, Incident.shift, Incident.location,
                     Incident.description, Incident.immediate_actions, Incident.flags, Incident.pair,
                     Incident.harm_physical, Incident.harm_psychological, Incident.pd09, Incident.restricted,
                     Incident.harm_confirmation_needed, Incident.version)
_PERSON_COLUMNS = (PersonInvolved.incident_id, PersonInvolved.role, PersonInvolved.person_type,
                   PersonInvolved.local_ref, PersonInvolved.sex, PersonInvolved.age_years, PersonInvolved.age_band,
                   PersonInvolved.detained, PersonInvolved.harm_physical, PersonInvolved.harm_psychological)
# Only the actions a format reads, each as a light ActionInfo: the rules behind the dataset's governance
# flags; the open ones (ward report); or those with a note (the identifier scan).
_FLAG_RULES = tuple(sorted(SAFEGUARDING_RULES | CQC_RULES | CANDOUR_RULES | POLICE_RULES))
_A = SafeguardingAction
_ACTIONS = {
    # Found by incident (its covering index): the rule filter is wrapped in coalesce so that no database uses
    # the rule index instead, which walks every flag action of the store for each chunk (an export would then
    # grow with the square of the store).
    "flags": (lambda ids: select(_A.incident_id, _A.rule_id, _A.status)
              .where(_A.incident_id.in_(ids), func.coalesce(_A.rule_id, "").in_(_FLAG_RULES)),
              lambda i, rule, status: ActionInfo(0, i, "", rule, "", "", "", "", "", "", None, True, "", None, status,
                                                 "", "", None)),
    "open": (lambda ids: select(_A.incident_id, _A.title, _A.owner_label, _A.owner_role, _A.due_at)
             .where(_A.incident_id.in_(ids), _A.status == "open"),
             lambda i, title, label, role, due: ActionInfo(0, i, "", None, title, "", "", "", role, label, None, True,
                                                           "", from_db(due), "open", "", "", None)),
    "notes": (lambda ids: select(_A.incident_id, _A.id, _A.note).where(_A.incident_id.in_(ids), _A.note != ""),
              lambda i, action_id, note: ActionInfo(action_id, i, "", None, "", "", "", "", "", "", None, True, "",
                                                    None, "", note, "", None)),
}


def _load(session, chunk: list[tuple[str, int, str]], now: datetime, *, actions: str) -> list[IncidentDetail]:
    """The incidents of one chunk as light IncidentDetail DTOs, in chunk order, from four set-based queries
    of plain rows (incidents, people, types, the actions this format reads), joined in memory by id."""
    ids = [row[0] for row in chunk]
    connection = session.connection()

    def run(stmt):  # plain Core rows, past the ORM's result machinery, fetched in one call (a chunk is small)
        return connection.execute(stmt).all()

    people: dict[str, list] = defaultdict(list)
    for p in run(select(*_PERSON_COLUMNS).where(PersonInvolved.incident_id.in_(ids))
                             .order_by(PersonInvolved.incident_id, PersonInvolved.position)):
        people[p.incident_id].append(PersonDraft(
            role=p.role, person_type=p.person_type, local_ref=p.local_ref, sex=p.sex, age_years=p.age_years,
            age_band=p.age_band, detained=p.detained, harm_physical=p.harm_physical,
            harm_psychological=p.harm_psychological))
    types: dict[str, list[str]] = defaultdict(list)
    for incident_id, code in run(select(IncidentType.incident_id, IncidentType.code)
                                             .where(IncidentType.incident_id.in_(ids)).order_by(IncidentType.code)):
        types[incident_id].append(code)
    acts: dict[str, list[ActionInfo]] = defaultdict(list)
    query, make = _ACTIONS[actions]
    for a in run(query(ids)):
        acts[a[0]].append(make(*a))
    rows = {r.id: r for r in run(select(*_INCIDENT_COLUMNS).where(Incident.id.in_(ids)))}
    wards = _ward_names(session)
    return [_detail(rows[i], people[i], types[i], acts[i], wards) for i in ids]


def _ward_names(session) -> dict[int, str]:
    return dict(session.connection().execute(select(Ward.id, Ward.name)).all())


def _detail(r, people, types, actions, wards) -> IncidentDetail:
    draft = IncidentDraft(
        ward_id=r.ward_id, types=tuple(types), occurred_at=from_db(r.occurred_at),
        occurred_precision=r.occurred_precision, shift=r.shift, location=r.location, people=tuple(people),
        flags=tuple(json.loads(r.flags)) if r.flags != "[]" else (), description=r.description, immediate_actions=r.immediate_actions)
    return IncidentDetail(
        r.id, r.reference, r.ward_id, wards.get(r.ward_id, ""), r.status, r.reporter_id, draft, None, None, None,
        r.pair, r.harm_physical, r.harm_psychological, r.pd09, r.restricted, r.harm_confirmation_needed, "",
        r.version, tuple(actions))


def _context(session, generated: datetime, date_from, date_to, include_free_text: bool) -> ExportContext:
    org = session.scalar(select(Organisation))
    services = {w.id: w.service_type for w in session.scalars(select(Ward))}
    return ExportContext(ods_code=org.ods_code if org else "", generated_at=generated, period_start=date_from,
                         period_end=date_to, ward_service_types=services, include_free_text=include_free_text)


# ----- writing and recording ---------------------------------------------------------------------------------

def _destination(out_path: str | os.PathLike) -> Path:
    dest = Path(out_path).expanduser().absolute()
    if not dest.parent.is_dir():
        raise ExportError(f"The folder {dest.parent} does not exist. Choose another place to save the export.")
    if dest.is_dir():
        raise ExportError(f"{dest} is a folder. Give a file name for the export.")
    return dest


def _write_failed(dest: Path) -> ExportError:
    return ExportError(f"Lantern could not write the export to {dest.parent} (the disk may be full, read-only "
                       "or the file open in another program). Nothing was exported.")


class _Output:
    """The export file as it is written: a temporary file beside the destination, hashed as it grows.
    keep() fsyncs it and moves it into place in one step; leaving the block without keep() removes it,
    so a cancelled or failed export leaves nothing anywhere."""

    def __init__(self, out_path: str | os.PathLike) -> None:
        self.dest = _destination(out_path)
        self.sha, self.size, self.kept, self.temp_path, self.fh = hashlib.sha256(), 0, False, "", None

    def __enter__(self) -> _Output:
        try:
            fd, self.temp_path = tempfile.mkstemp(prefix=f".{self.dest.name}.", suffix=".part", dir=self.dest.parent)
        except OSError:
            raise _write_failed(self.dest) from None
        self.fh = os.fdopen(fd, "wb", buffering=1 << 20)
        return self

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        try:
            self.fh.write(data)
        except OSError:
            raise _write_failed(self.dest) from None

    def flush(self) -> None:
        try:
            self.fh.flush()
        except OSError:
            raise _write_failed(self.dest) from None

    def keep(self) -> None:
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            os.replace(self.temp_path, self.dest)
        except OSError:
            raise _write_failed(self.dest) from None
        self.kept = True

    @property
    def sha256(self) -> str:
        return self.sha.hexdigest()

    def __exit__(self, *exc) -> None:
        if self.kept:
            return
        try:
            self.fh.close()
        except OSError:
            pass
        try:
            os.unlink(self.temp_path)
        except OSError:
            pass


def write_atomically(out_path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `out_path` in one step: a temporary file in the same folder, fsync, then replace.
    Nothing is written anywhere else; on failure the temporary file is removed and ExportError raised."""
    with _Output(out_path) as out:
        out.write(data)
        out.keep()
    return out.dest


@dataclass(frozen=True)
class _Made:
    """An export whose file is in place, to be recorded."""

    kind: str
    out: _Output
    chosen: export_choice.Listed | export_choice.OnServer
    period: tuple[date | None, date | None]
    ward_id: int | None
    privacy: _Privacy


def _finish(session, actor: Actor, made: _Made) -> ExportResult:
    """The file is in place: record the batch, the latest-export rows (per incident and kind: this batch, and
    the version and updated_at as read; one bulk upsert, so the store does not grow with each export) and a
    small audit event (counts and digests, never a list of ids or any text), and commit. If the record cannot be
    saved, the file is removed again: no export goes unaudited."""
    kind, out, chosen, privacy, period = made.kind, made.out, made.chosen, made.privacy, made.period
    dest, digest = out.dest, out.sha256
    try:
        connection = session.connection()
        batch = ExportBatch(kind=kind, created_by=actor.user_id, created_at=now_db(), incident_count=chosen.count,
                            period_from=period[0].isoformat() if period[0] else None,
                            period_to=period[1].isoformat() if period[1] else None,
                            filename=str(dest)[:260], sha256=digest)
        session.add(batch)
        session.flush()
        chosen.record_latest(connection, kind, batch.id)
        identifiers = ("redacted" if privacy.redact_identifiers and not privacy.kept else
                       "some_kept_by_user" if privacy.redact_identifiers else "kept_by_user")
        detail = {"kind": kind, "count": chosen.count, "incidents_sha256": chosen.ids_digest(connection),
                  "ward_id": made.ward_id, "period_from": batch.period_from, "period_to": batch.period_to,
                  "free_text": "included" if privacy.include_free_text else "withheld",
                  "identifiers_found": privacy.found, "identifiers_kept": privacy.kept,
                  "identifiers": identifiers, "file": dest.name, "sha256": digest, "bytes": out.size}
        if kind == PDF_INCIDENT:
            detail["incident_id"] = chosen.rows[0][0]
        audit.record(session, actor, "export." + kind.replace("-", "_"), entity_type="export_batch",
                     entity_id=str(batch.id), detail=detail)
        session.commit()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return ExportResult(batch.id, kind, dest, chosen.count, digest, out.size, privacy.include_free_text,
                        privacy.found, privacy.redact_identifiers, privacy.kept)
