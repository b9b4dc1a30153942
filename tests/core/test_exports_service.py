"""Export services on real encrypted stores: permissions, visibility, drafts, batches, audit, atomic writes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select, update

from core.db.models import AuditEvent, ExportBatch, ExportLatest, Incident, Organisation, PersonInvolved
from core.db.store import unit_of_work
from core.dto import IncidentDraft, PersonDraft
from core.errors import NotFound, PermissionDenied, ValidationError
from core.exports import nrls_xml
from core.exports.mapping import NRLS_NS, ExportError
from core.exports.progress import Cancelled, CancelToken, Progress, drive
from core.services import exports, incidents

N = {"n": NRLS_NS}
MARKER = "MARKER-7731-DESCRIPTION"
NHS_NUMBER = "999 000 0018"  # passes the modulus-11 check; in the 999 test range, never issued


def _draft(ward_id, *, perpetrator="patient", linked=None, text=MARKER, when=None) -> IncidentDraft:
    return IncidentDraft(
        ward_id=ward_id, types=("SS-SA",), occurred_at=when or datetime.now(UTC) - timedelta(hours=3),
        location="lounge", flags=("physical_contact",), description=f"{text} said {NHS_NUMBER} was theirs.",
        immediate_actions=f"=SUM(A1) {MARKER}",
        people=(PersonDraft(role="affected", person_type="patient", local_ref="AB-1", sex="female", age_years=33,
                            harm_physical="none", harm_psychological="moderate"),
                PersonDraft(role="alleged_perpetrator", person_type=perpetrator, local_ref="CD-2",
                            linked_user_id=linked)))


@pytest.fixture
def world(make_store):
    """Oak: one patient-on-patient incident, one restricted (Oak manager named), one draft. Elm: one incident."""
    store, actors, _recovery, wards = make_store()
    oak, elm = wards["Oak Ward"], wards["Elm Ward"]
    nurse, lead = actors["nurse"], actors["lead"]
    ids = {}
    ids["oak"] = incidents.submit(store, nurse, incidents.create_draft(store, nurse, _draft(oak)).incident_id)
    restricted = _draft(oak, perpetrator="staff", linked=actors["manager"].user_id)
    ids["restricted"] = incidents.submit(store, nurse, incidents.create_draft(store, nurse, restricted).incident_id)
    ids["draft"] = incidents.create_draft(store, nurse, _draft(oak))
    ids["elm"] = incidents.submit(store, lead, incidents.create_draft(store, lead, _draft(elm)).incident_id)
    return store, actors, wards, ids


@pytest.fixture
def out_dir(tmp_path):
    """Where exports go: a folder of its own (the store lives elsewhere under tmp_path)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def _refs(xml_bytes: bytes) -> set[str]:
    root = etree.fromstring(xml_bytes)
    assert nrls_xml.schema().validate(root)
    return {el.text for el in root.iterfind("n:Incident/n:TRUSTINCIDENTID", N)}


def _audit(store, action_prefix="export."):
    with unit_of_work(store, write=False) as s:
        return [(e.action, json.loads(e.detail)) for e in s.scalars(select(AuditEvent)) if e.action.startswith(
            action_prefix)]


def test_lead_exports_every_submitted_incident_never_drafts(world, out_dir):
    store, actors, _wards, ids = world
    out = out_dir / "nrls.xml"
    result = exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out)
    refs = _refs(out.read_bytes())
    assert refs == {ids["oak"].reference, ids["restricted"].reference, ids["elm"].reference}
    assert ids["draft"].reference not in refs and result.incident_count == 3
    assert "not encrypted" in result.notice


def test_manager_only_their_wards_and_not_records_naming_them(world, out_dir):
    store, actors, wards, ids = world
    out = out_dir / "oak.xml"
    exports.export_incidents(store, actors["manager"], "nrls-xml", out_path=out)
    assert _refs(out.read_bytes()) == {ids["oak"].reference}  # restricted one names this manager
    with pytest.raises(PermissionDenied):
        exports.export_incidents(store, actors["manager"], "nrls-xml", out_path=out_dir / "elm.xml",
                                 ward_id=wards["Elm Ward"])
    assert not (out_dir / "elm.xml").exists()
    exports.export_incidents(store, actors["manager_elm"], "nrls-xml", out_path=out)
    assert _refs(out.read_bytes()) == {ids["elm"].reference}


@pytest.mark.parametrize("who", ["nurse", "admin"])
def test_nurse_and_admin_refused(world, out_dir, who):
    store, actors, _wards, ids = world
    with pytest.raises(PermissionDenied):
        exports.export_incidents(store, actors[who], "nrls-csv", out_path=out_dir / "x.csv")
    with pytest.raises(PermissionDenied):
        exports.incident_pdf(store, actors[who], ids["oak"].incident_id, out_dir / "x.pdf")
    assert list(out_dir.iterdir()) == []


def test_batch_and_audit_written_without_text(world, out_dir):
    store, actors, _wards, ids = world
    lead = actors["lead"]
    for kind, name in (("nrls-xml", "a.xml"), ("nrls-csv", "a.csv"), ("lfpse-json", "a.json")):
        exports.export_incidents(store, lead, kind, out_path=out_dir / name)
    exports.incident_pdf(store, lead, ids["oak"].incident_id, out_dir / "a.pdf")
    today = datetime.now(UTC).date()
    exports.ward_report_pdf(store, lead, ward_id=ids["oak"].ward_id, date_from=today - timedelta(days=365),
                            date_to=today, out_path=out_dir / "w.pdf")
    with unit_of_work(store, write=False) as s:
        batches = s.scalars(select(ExportBatch).order_by(ExportBatch.id)).all()
        assert [b.kind for b in batches] == ["nrls-xml", "nrls-csv", "lfpse-json", "pdf-incident", "pdf-ward"]
        assert [b.incident_count for b in batches] == [3, 3, 3, 1, 2]
        assert all(len(b.sha256) == 64 and b.created_by == lead.user_id for b in batches)
        raw = [e.detail for e in s.scalars(select(AuditEvent))]
        submitted = sorted(s.scalars(select(Incident.id).where(Incident.status != "draft")))
    events = _audit(store)
    assert [a for a, _ in events] == ["export.nrls_xml", "export.nrls_csv", "export.lfpse_json",
                                      "export.pdf_incident", "export.pdf_ward"]
    first = events[0][1]
    assert first["count"] == 3 and "incident_ids" not in first
    # The ids' digest is the same on both engines, though the server builds it from its own copy of the selection.
    assert first["incidents_sha256"] == hashlib.sha256("\n".join(submitted).encode()).hexdigest()
    assert first["identifiers"] == "redacted" and first["identifiers_found"] >= 3
    assert not any(MARKER in d or NHS_NUMBER in d or "AB-1" in d for d in raw)


def test_csv_is_safe_and_redacted(world, out_dir):
    store, actors, _wards, _ids = world
    out = out_dir / "a.csv"
    exports.export_incidents(store, actors["lead"], "nrls-csv", out_path=out)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and NHS_NUMBER.encode() not in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 3
    assert all(r["IMMEDIATE_ACTIONS"].startswith("'=SUM(A1)") for r in rows)
    assert all("[removed: an NHS number]" in r["IN07"] for r in rows)


def test_identifiers_kept_only_when_the_user_confirms(world, out_dir):
    store, actors, _wards, ids = world
    hits = exports.find_identifiers(store, actors["lead"], incident_id=ids["oak"].incident_id)
    assert [(h.reference, h.field, h.kind) for h in hits] == [(ids["oak"].reference, "description", "nhs_number")]
    out = out_dir / "kept.json"
    result = exports.export_incidents(store, actors["lead"], "lfpse-json", out_path=out, redact_identifiers=False)
    assert NHS_NUMBER in out.read_text() and result.identifiers_redacted is False
    assert _audit(store)[-1][1]["identifiers"] == "kept_by_user"
    assert all(MARKER not in json.dumps(d) for _a, d in _audit(store))


def test_withhold_all_free_text(world, out_dir):
    store, actors, _wards, _ids = world
    out = out_dir / "w.xml"
    exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out, include_free_text=False)
    assert MARKER.encode() not in out.read_bytes()
    assert _audit(store)[-1][1]["free_text"] == "withheld"


def test_period_filter(world, out_dir):
    store, actors, wards, _ids = world
    past = datetime.now(UTC).date() - timedelta(days=400)
    result = exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "p.xml",
                                      date_from=past, date_to=past + timedelta(days=30))
    assert result.incident_count == 0 and _refs((out_dir / "p.xml").read_bytes()) == set()
    with pytest.raises(ValidationError):
        exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "q.xml",
                                 date_from=past, date_to=past - timedelta(days=1))


def test_failed_schema_validation_writes_nothing(world, out_dir, monkeypatch):
    store, actors, _wards, _ids = world
    monkeypatch.setattr(nrls_xml, "IN04_ENGLAND", (97, "England"))  # a writer fault the schema must catch
    with pytest.raises(ExportError):
        exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "bad.xml")
    assert list(out_dir.iterdir()) == []
    with unit_of_work(store, write=False) as s:
        assert s.scalars(select(ExportBatch)).all() == []
    assert _audit(store) == []
    # Nothing of the cancelled export is left behind to trouble the next (on a server, its selection's table).
    again = exports.export_incidents(store, actors["lead"], "nrls-csv", out_path=out_dir / "c.csv")
    assert again.incident_count == 3 and [a for a, _ in _audit(store)] == ["export.nrls_csv"]


def test_writes_only_beside_the_destination(world, out_dir, monkeypatch):
    store, actors, _wards, _ids = world
    dest_dir = out_dir / "chosen"
    dest_dir.mkdir()
    made = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        made.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    exports.export_incidents(store, actors["lead"], "nrls-csv", out_path=dest_dir / "e.csv")
    assert made == [dest_dir.absolute()]
    assert [p.name for p in dest_dir.iterdir()] == ["e.csv"]  # the temporary file is gone


def test_missing_folder_is_a_plain_error(world, out_dir):
    store, actors, _wards, _ids = world
    with pytest.raises(ExportError, match="does not exist"):
        exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "nope" / "e.xml")
    assert _audit(store) == []


def test_incident_pdf_rules(world, out_dir):
    store, actors, _wards, ids = world
    out = out_dir / "i.pdf"
    exports.incident_pdf(store, actors["manager"], ids["oak"].incident_id, out)
    assert out.read_bytes().startswith(b"%PDF")
    with pytest.raises(NotFound):  # the restricted record names this manager: same answer as missing
        exports.incident_pdf(store, actors["manager"], ids["restricted"].incident_id, out_dir / "r.pdf")
    with pytest.raises((ValidationError, NotFound)):  # a draft is never exported (nor seen by others)
        exports.incident_pdf(store, actors["lead"], ids["draft"].incident_id, out_dir / "d.pdf")
    assert sorted(p.name for p in out_dir.iterdir()) == ["i.pdf"]


# ----- progress, cancel, batch items, re-export flags, per-hit choices, stray files ------------------------

def test_iter_export_yields_progress_and_returns_the_result(world, out_dir):
    store, actors, _wards, _ids = world
    request = exports.ExportRequest("nrls-xml", out_dir / "p.xml")
    seen = []
    result = drive(exports.iter_export(store, actors["lead"], request), seen.append)
    assert result.incident_count == 3 and (out_dir / "p.xml").exists()
    assert seen[0] == Progress(0, 0, "Reading the records") and seen[-1].stage == "Saving the file"
    assert all(isinstance(p, Progress) and p.done <= max(p.total, p.done) for p in seen)


def test_an_xml_file_that_fails_its_check_is_not_kept(world, out_dir, monkeypatch):
    store, actors, _wards, _ids = world
    monkeypatch.setattr(nrls_xml, "_PD09_LABEL", {})  # every PD09 label now disagrees with the check's table
    with pytest.raises(ExportError, match="PD09 label does not match its code in record 1"):
        exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "x.xml")
    assert list(out_dir.iterdir()) == []
    with unit_of_work(store, write=False) as s:
        assert s.scalars(select(ExportBatch)).all() == []


@pytest.mark.parametrize("cancel_after", [0, 1, 2, 3])
def test_cancelling_at_any_stage_writes_and_records_nothing(world, out_dir, cancel_after):
    store, actors, _wards, _ids = world
    token = CancelToken()
    steps = exports.iter_export(store, actors["lead"], exports.ExportRequest("nrls-csv", out_dir / "c.csv"),
                                cancel=token)
    for _ in range(cancel_after + 1):
        next(steps)
    token.cancel()
    with pytest.raises(Cancelled, match="Nothing was written"):
        drive(steps)
    assert list(out_dir.iterdir()) == []
    with unit_of_work(store, write=False) as s:
        assert s.scalars(select(ExportBatch)).all() == []
    assert _audit(store) == []
    # Nothing of the cancelled export is left behind to trouble the next (on a server, its selection's table).
    again = exports.export_incidents(store, actors["lead"], "nrls-csv", out_path=out_dir / "c.csv")
    assert again.incident_count == 3 and [a for a, _ in _audit(store)] == ["export.nrls_csv"]


def test_batch_items_record_each_incident_and_its_version(world, out_dir):
    store, actors, _wards, ids = world
    result = exports.export_incidents(store, actors["manager"], "nrls-xml", out_path=out_dir / "a.xml")
    with unit_of_work(store, write=False) as s:
        items = s.scalars(select(ExportLatest).where(ExportLatest.batch_id == result.batch_id)).all()
    assert [(i.kind, i.incident_id, i.incident_version) for i in items] == [
        ("nrls-xml", ids["oak"].incident_id, ids["oak"].version)]


def test_exporting_again_does_not_grow_the_store(world, out_dir):
    """One row per incident and kind, replaced by the next export of that kind (issue 14: no bloat)."""
    store, actors, _wards, _ids = world
    for n in range(3):
        last = exports.export_incidents(store, actors["lead"], "nrls-csv", out_path=out_dir / f"{n}.csv")
    exports.export_incidents(store, actors["lead"], "lfpse-json", out_path=out_dir / "a.json")
    with unit_of_work(store, write=False) as s:
        rows = s.execute(select(ExportLatest.kind, ExportLatest.batch_id)).all()
    assert sorted(kind for kind, _ in rows) == ["lfpse-json"] * 3 + ["nrls-csv"] * 3
    assert {batch for kind, batch in rows if kind == "nrls-csv"} == {last.batch_id}


def test_changed_incidents_are_flagged_for_reexport(world, out_dir):
    store, actors, _wards, ids = world
    lead = actors["lead"]
    assert exports.incidents_needing_reexport(store, lead, "nrls-xml") == []  # never exported: nothing to redo
    exports.export_incidents(store, lead, "nrls-xml", out_path=out_dir / "a.xml")
    assert exports.incidents_needing_reexport(store, lead, "nrls-xml") == []
    edited = _draft(ids["elm"].ward_id, text="Corrected after review")
    changed = incidents.update_incident(store, lead, ids["elm"].incident_id, edited, reason="Time corrected")
    flags = exports.incidents_needing_reexport(store, lead, "nrls-xml")
    assert [f.reference for f in flags] == [ids["elm"].reference]
    assert flags[0].exported_version == ids["elm"].version < changed.version == flags[0].current_version
    assert exports.incidents_needing_reexport(store, lead, "nrls-csv") == []  # per kind
    assert exports.incidents_needing_reexport(store, actors["manager"], "nrls-xml") == []  # not their ward
    exports.export_incidents(store, lead, "nrls-xml", out_path=out_dir / "b.xml")
    assert exports.incidents_needing_reexport(store, lead, "nrls-xml") == []  # exported again: flag cleared
    time.sleep(1.05)  # times are stored to the second
    incidents.start_review(store, lead, ids["oak"].incident_id)  # same version, updated later
    assert [f.reference for f in exports.incidents_needing_reexport(store, lead, "nrls-xml")] == [
        ids["oak"].reference]
    with pytest.raises(PermissionDenied):
        exports.incidents_needing_reexport(store, actors["nurse"], "nrls-xml")


def test_each_hit_can_be_kept_or_redacted(world, out_dir):
    store, actors, _wards, ids = world
    lead = actors["lead"]
    hits = exports.find_identifiers(store, lead)
    assert len(hits) == 3 and len({h.key for h in hits}) == 3
    keep = next(h for h in hits if h.incident_id == ids["elm"].incident_id)
    result = exports.export_incidents(store, lead, "nrls-csv", out_path=out_dir / "k.csv",
                                      keep_identifiers=frozenset({keep.key}))
    rows = {r["TRUSTINCIDENTID"]: r for r in csv.DictReader(io.StringIO(
        (out_dir / "k.csv").read_text(encoding="utf-8-sig"), newline=""))}
    assert NHS_NUMBER in rows[ids["elm"].reference]["IN07"]
    assert NHS_NUMBER not in rows[ids["oak"].reference]["IN07"]
    assert (result.identifiers_found, result.identifiers_kept) == (3, 1)
    detail = _audit(store)[-1][1]
    assert detail["identifiers"] == "some_kept_by_user" and detail["identifiers_kept"] == 1


def _snapshot(*folders):
    return {p for folder in folders for p in folder.rglob("*")}


@pytest.mark.sqlcipher_only("the files of the store folder on this PC")
def test_no_file_is_written_anywhere_but_the_destination(world, tmp_path, monkeypatch):
    """Snapshot the temp folder, the store folder, the working folder and Lantern's log/settings folders
    around an export of every kind: the only new file is the destination (besides SQLite's own WAL files).
    tempfile fails loudly if used anywhere but beside the destination."""
    store, actors, wards, ids = world
    dest_dir = tmp_path / "dest"
    dest_dir.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    private_tmp = tmp_path / "tmp"  # the temp folder for this test, so other processes' files do not count
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    system_tmp = private_tmp
    real_mkstemp = tempfile.mkstemp

    def only_beside_destination(*args, **kwargs):
        if Path(kwargs.get("dir") or system_tmp) != dest_dir:
            raise AssertionError(f"a temporary file outside the destination folder: {kwargs.get('dir')}")
        return real_mkstemp(*args, **kwargs)

    def refuse(*_args, **_kwargs):
        raise AssertionError("exports must not use tempfile except beside the destination")

    monkeypatch.setattr(tempfile, "mkstemp", only_beside_destination)
    for name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkdtemp", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, refuse)
    lead, today = actors["lead"], datetime.now(UTC).date()
    jobs = [exports.ExportRequest(kind, dest_dir / f"e.{kind}") for kind in ("nrls-xml", "nrls-csv", "lfpse-json")]
    jobs += [exports.ExportRequest("pdf-incident", dest_dir / "i.pdf", incident_id=ids["oak"].incident_id),
             exports.ExportRequest("pdf-ward", dest_dir / "w.pdf", ward_id=wards["Oak Ward"],
                                   date_from=today - timedelta(days=30), date_to=today)]
    lantern_home = Path(os.environ["LANTERN_LOG_DIR"]).parent  # logs, settings, data (conftest)
    for request in jobs:
        before = _snapshot(tmp_path, store.folder, lantern_home)
        drive(exports.iter_export(store, lead, request))
        new = _snapshot(tmp_path, store.folder, lantern_home) - before
        sqlite_own = {p for p in new if p.parent == store.folder and p.name.startswith("lantern.db")}  # WAL/SHM
        assert new - sqlite_own == {request.out_path}, new
    assert list(private_tmp.iterdir()) == [] and list(cwd.iterdir()) == []


# ----- local references are identifiers too (issue 14) --------------------------------------------------------

NAMED_REF = f"John Brown {NHS_NUMBER}"  # synthetic name; the number is in the 999 test range


def test_core_validation_refuses_an_identifier_as_a_local_reference(make_store):
    store, actors, _recovery, wards = make_store()
    person = PersonDraft(role="alleged_perpetrator", person_type="patient", local_ref=NHS_NUMBER.replace(" ", "."))
    draft = _draft(wards["Oak Ward"])
    with pytest.raises(ValidationError) as err:
        incidents.create_draft(store, actors["nurse"], replace(draft, people=(draft.people[0], person)))
    assert "people.2" in err.value.field_errors and "an NHS number" in err.value.field_errors["people.2"]
    assert NHS_NUMBER not in str(err.value.field_errors)


def _old_record_with_named_reference(world):
    """A record saved before the check: its perpetrator's reference holds a name and an NHS number."""
    store, actors, _wards, ids = world
    with unit_of_work(store) as s:
        s.execute(update(PersonInvolved).where(PersonInvolved.incident_id == ids["oak"].incident_id,
                                               PersonInvolved.role == "alleged_perpetrator")
                  .values(local_ref=NAMED_REF))
        s.commit()
    return store, actors, ids


def _pdf_text(path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_incident_pdf_screens_local_references(world, out_dir):
    store, actors, ids = _old_record_with_named_reference(world)
    hits = exports.find_identifiers(store, actors["lead"], incident_id=ids["oak"].incident_id)
    assert [h.field for h in hits if h.kind == "nhs_number"].count("local_ref") == 1
    exports.incident_pdf(store, actors["lead"], ids["oak"].incident_id, out_dir / "a.pdf")
    text = _pdf_text(out_dir / "a.pdf")
    assert "0018" not in text and "[removed: an NHS number]" in text.replace("\n", " ")
    exports.incident_pdf(store, actors["lead"], ids["oak"].incident_id, out_dir / "b.pdf", include_free_text=False)
    text = _pdf_text(out_dir / "b.pdf")
    assert "John Brown" not in text and "0018" not in text and "AB-1" not in text and "Withheld" in text


# ----- streaming in chunks, the ODS rule at export ------------------------------------------------------------

@pytest.mark.parametrize("kind", ["nrls-xml", "nrls-csv", "lfpse-json"])
def test_records_stream_in_chunks_in_order(world, out_dir, monkeypatch, kind):
    store, actors, _wards, ids = world
    monkeypatch.setattr(exports, "CHUNK", 2)  # three incidents: two chunks
    whole = exports.export_incidents(store, actors["lead"], kind, out_path=out_dir / "a")
    data = (out_dir / "a").read_bytes()
    order = [ids[k].reference for k in ("oak", "restricted", "elm")]
    assert whole.incident_count == 3
    assert [data.index(ref.encode()) for ref in order] == sorted(data.index(ref.encode()) for ref in order)
    assert whole.sha256 == hashlib.sha256(data).hexdigest() and whole.size_bytes == len(data)


def test_a_store_with_an_ods_code_the_dataset_cannot_carry_is_refused_in_words(world, out_dir):
    store, actors, _wards, _ids = world
    with unit_of_work(store) as s:
        s.execute(update(Organisation).values(ods_code="RXX-TRUST1"))  # ten characters: the column's width
        s.commit()
    with pytest.raises(ExportError, match="ODS code .RXX-TRUST1. is not one the national dataset can carry"):
        exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "a.xml")
    assert list(out_dir.iterdir()) == []


@pytest.mark.sqlcipher_only("a downgrade and upgrade of the embedded store's schema")
def test_migration_0010_keeps_the_latest_export_of_each_kind(world, out_dir):
    """Down to 0009 (one item row per batch), two batches of one kind, then up again: the later batch stays."""
    from alembic import command

    from core.db import migrate
    from core.db.engine import writer

    store, actors, _wards, ids = world
    first = exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "1.xml")
    second = exports.export_incidents(store, actors["lead"], "nrls-xml", out_path=out_dir / "2.xml")
    cfg = migrate._config()
    with writer(store.engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
        for batch, version in ((first.batch_id, 1), (second.batch_id, 7)):  # the older batch listed too
            conn.exec_driver_sql("DELETE FROM export_batch_items WHERE batch_id = ?", (batch,))
            conn.exec_driver_sql("INSERT INTO export_batch_items VALUES (?, ?, ?, '2026-01-01T00:00:00+00:00')",
                                 (batch, ids["oak"].incident_id, version))
        command.upgrade(cfg, "head")
    with unit_of_work(store, write=False) as s:
        rows = s.execute(select(ExportLatest.batch_id, ExportLatest.incident_version)
                         .where(ExportLatest.incident_id == ids["oak"].incident_id)).all()
    assert rows == [(second.batch_id, 7)]
