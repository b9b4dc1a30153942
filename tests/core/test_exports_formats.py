"""Pure tests of the export formats over hand-built IncidentDetail DTOs: shape, schema, CSV safety, LFPSE, PDF."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from core.dto import ActionInfo, IncidentDetail, IncidentDraft, PersonDraft
from core.exports import lfpse_json, nrls_csv, nrls_xml, pdf
from core.exports.mapping import (
    EXT_NS,
    MAX_FREE_TEXT,
    NRLS_NS,
    ExportContext,
    ExportError,
    age_days,
    clean_text,
    redact_detail,
    redact_text,
    to_record,
)
from core.exports.summary import summarise
from core.taxonomy import load_taxonomy

TAX = load_taxonomy()
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
N = {"n": NRLS_NS, "x": EXT_NS}


def _action(rule_id: str, status: str = "open", due_days: float = 1, note: str = "") -> ActionInfo:
    return ActionInfo(1, "id-1", "LAN-2026-00001", rule_id, f"Do {rule_id}", "", "", "", "ward_manager",
                      "Ward manager", None, True, "hours", NOW + timedelta(days=due_days), status, note, "", None)


def detail(reference="LAN-2026-00001", *, description="Patient A touched patient B over clothing in the lounge.",
           immediate="Separated; enhanced observations.", status="submitted", perpetrator="patient",
           affected_type="patient", precision="exact", actions=None) -> IncidentDetail:
    people = (
        PersonDraft(role="affected", person_type=affected_type, local_ref="AB-1", sex="female", age_years=33,
                    detained=True, harm_physical="none", harm_psychological="low"),
        PersonDraft(role="alleged_perpetrator", person_type=perpetrator, local_ref="CD-2", sex="male",
                    age_band="26_45"),
    )
    draft = IncidentDraft(ward_id=1, types=("SS-SA",), occurred_at=datetime(2026, 3, 14, 21, 40, tzinfo=UTC),
                          occurred_precision=precision, shift="night" if precision == "approximate" else None,
                          location="lounge", people=people, flags=("physical_contact",), description=description,
                          immediate_actions=immediate)
    if actions is None:
        actions = (_action("adult-safeguarding-concern"), _action("cqc-notification", "done"),
                   _action("duty-of-candour", "not_applicable"))
    return IncidentDetail("id-" + reference, reference, 1, "Oak Ward", status, "reporter-id", draft, NOW, NOW, None,
                          f"{perpetrator}_on_{affected_type}", "none", "low", 2, perpetrator == "staff", False, "",
                          1, tuple(actions))


def ctx(**kw) -> ExportContext:
    return ExportContext(ods_code="RXX", generated_at=NOW, period_start=date(2026, 3, 1),
                         period_end=date(2026, 3, 31), ward_service_types={1: "adult_acute"}, **kw)


def records(*details, **kw):
    c = ctx(**kw)
    return [to_record(d, c, TAX) for d in details], c


# ----- NRLS XML -------------------------------------------------------------------------------------------

def test_nrls_xml_golden_shape_and_schema():
    recs, c = records(detail(), detail("LAN-2026-00002", perpetrator="staff", precision="approximate"))
    data = nrls_xml.render(recs, c)
    root = etree.fromstring(data)
    assert nrls_xml.schema().validate(root)
    assert root.get("schemaVersion") == "1.0" and root.get("nrlsCodeListStatus") == "partial"
    batch = root.find("n:Batch", N)
    assert batch.get("recordCount") == "2" and batch.get("organisationCode") == "RXX"
    inc = root.findall("n:Incident", N)
    assert [i.findtext("n:TRUSTINCIDENTID", namespaces=N) for i in inc] == ["LAN-2026-00001", "LAN-2026-00002"]
    first = inc[0]
    assert first.find("n:RM04", N).attrib == {"code": "3", "label": "LRMS"}
    assert first.find("n:IN04", N).attrib == {"code": "1", "label": "England"}
    assert first.find("n:RP02", N).get("code") == ""  # care-setting code unknown: label only
    assert first.findtext("n:IN01", namespaces=N) == "2026-03-14"
    assert first.findtext("n:IN02", namespaces=N) == "21:40"
    assert first.find("n:IN05", N).get("lvl1Label").startswith("Disruptive, aggressive behaviour")
    assert first.find("n:PD09", N).attrib == {"code": "2", "label": "Low harm"}
    patient = first.find("n:Patient", N)
    assert patient.find("n:DV01", N).get("lfpseAgeBracket") == "9"
    assert patient.find("n:LFPSE_OT001", N).get("code") == "5"
    assert patient.find("n:LFPSE_OT002", N).get("code") == "3"
    ext = first.find("x:SexualSafety", N)
    assert ext.get("safeguardingReferral") == "true" and ext.get("cqcNotifiable") == "true"
    assert ext.get("dutyOfCandour") == "false"  # marked not applicable
    assert ext.get("detainedUnderMHA") == "true"
    assert ext.find("x:Type", N).get("code") == "SS-SA"
    second = inc[1]
    assert second.find("n:IN02", N) is None  # approximate time: no IN02, shift in the extension
    assert second.find("n:IN05", N).get("lvl1Label") == "Patient abuse (by staff / third party)"
    assert second.find("x:SexualSafety/x:Shift", N).get("code") == "night"


def test_no_local_references_in_national_formats():
    recs, c = records(detail())
    for render in (nrls_xml.render, nrls_csv.render, lfpse_json.render):
        out = render(recs, c).decode("utf-8-sig")
        assert "AB-1" not in out and "CD-2" not in out and "reporter-id" not in out


def test_broken_document_is_refused_without_quoting_values():
    recs, c = records(detail())
    root = nrls_xml.build_tree(recs, c)
    root.find("n:Incident/n:RM04", N).set("code", "4")
    with pytest.raises(ExportError) as err:
        nrls_xml.validate(root)
    assert "RM04" in str(err.value) and "nothing was written" in str(err.value)


def test_xml_values_are_escaped_and_the_bytes_written_are_the_bytes_checked():
    nasty = 'a "quote", <b>tag</b> & amp; ]]> \t tab'
    recs, c = records(detail(description=nasty, immediate=nasty))
    data = nrls_xml.render(recs, c)
    root = etree.fromstring(data)
    assert nrls_xml.schema().validate(root)
    assert root.findtext("n:Incident/n:IN07", namespaces=N) == nasty
    assert root.findtext("n:Incident/x:SexualSafety/x:ImmediateActions", namespaces=N) == nasty
    assert b"<b>" not in data


def test_malformed_output_is_refused(monkeypatch):
    recs, c = records(detail())
    monkeypatch.setattr(nrls_xml, "_text_value", lambda value: value)  # a writer that forgot to escape
    with pytest.raises(ExportError, match="not well-formed"):
        nrls_xml.render(records(detail(description="a < b"))[0], c)
    assert nrls_xml.render(recs, c)  # harmless text still passes


def test_drafts_are_never_mapped():
    with pytest.raises(ExportError):
        to_record(detail(status="draft"), ctx(), TAX)


def test_withheld_free_text():
    recs, c = records(detail(description="SECRET-TEXT-1"), include_free_text=False)
    xml = nrls_xml.render(recs, c)
    assert b"SECRET-TEXT-1" not in xml
    root = etree.fromstring(xml)
    assert nrls_xml.schema().validate(root)
    assert root.find("n:Incident/n:IN07", N).get("withheld") == "true"
    assert b"SECRET-TEXT-1" not in lfpse_json.render(recs, c)


# ----- CSV -------------------------------------------------------------------------------------------------

def test_csv_bom_header_and_one_row_per_incident():
    recs, c = records(detail(), detail("LAN-2026-00002"))
    data = nrls_csv.render(recs, c)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == nrls_csv.HEADER
    assert len(rows) == 3 and all(len(r) == len(nrls_csv.HEADER) for r in rows)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["TRUSTINCIDENTID"] == "LAN-2026-00001" and row["RM04"] == "3" and row["IN04"] == "1"
    assert row["PD09"] == "2" and row["LFPSE_OT001"] == "5" and row["AGE_YEARS"] == "33"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_formula_injection_is_neutralised(start):
    evil = start + "HYPERLINK(\"http://x\",\"click\")"
    recs, c = records(detail(description=evil, immediate=evil))
    rows = list(csv.reader(io.StringIO(nrls_csv.render(recs, c).decode("utf-8-sig"), newline="")))
    row = dict(zip(rows[0], rows[1], strict=True))
    expected = clean_text(evil)
    assert row["IN07"] == "'" + expected or row["IN07"] == expected and not expected.startswith(
        nrls_csv.FORMULA_STARTS)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows[1:] for cell in r)


AWKWARD = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200) | st.sampled_from(
    ['a "quoted", text', "line1\nline2\r\nline3", "<b>&amp;</b>", "emoji 😀🙂", "=1+1", "@SUM(A1)", "-5", "\x00\x01"])


@settings(max_examples=150, deadline=None)
@given(AWKWARD)
def test_awkward_text_round_trips_safely(text):
    recs, c = records(detail(description=text))
    rows = list(csv.reader(io.StringIO(nrls_csv.render(recs, c).decode("utf-8-sig"), newline="")))
    cell = dict(zip(rows[0], rows[1], strict=True))["IN07"]
    cleaned = clean_text(text)
    assert cell == (("'" + cleaned) if cleaned.startswith(nrls_csv.FORMULA_STARTS) else cleaned)
    root = etree.fromstring(nrls_xml.render(recs, c))  # validated inside render
    assert (root.findtext("n:Incident/n:IN07", namespaces=N) or "") == cleaned
    event = json.loads(lfpse_json.render(recs, c))["entry"][0]["resource"]
    assert event["description"] == cleaned


@given(st.text(max_size=50))
def test_safe_cell(text):
    out = nrls_csv.safe_cell(text)
    assert not out.startswith(nrls_csv.FORMULA_STARTS)
    assert out in (text, "'" + text)


# ----- LFPSE ------------------------------------------------------------------------------------------------

def _sub(extensions, profile):
    block = next(e for e in extensions if e["url"].endswith("/" + profile))
    return {e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in block["extension"]}


def test_lfpse_bundle_structure_and_codes():
    recs, c = records(detail(), detail("LAN-2026-00002", perpetrator="staff", affected_type="staff"))
    doc = json.loads(lfpse_json.render(recs, c))
    assert doc["resourceType"] == "Bundle" and doc["type"] == "collection" and len(doc["entry"]) == 2
    event = doc["entry"][0]["resource"]
    assert event["resourceType"] == "AdverseEvent"
    assert event["meta"]["profile"] == [lfpse_json.PROFILE_BASE + "patient-safety-adverse-event-5"]
    patient = next(r for r in event["contained"] if r["resourceType"] == "Patient")
    info = {e["url"]: next(v for k, v in e.items() if k.startswith("value"))
            for e in patient["extension"][0]["extension"]}
    assert info == {"PatientSequence": 1, "AgeAtTimeOfIncidentDays": 12276,
                    "Gender": "1", "PhysicalHarm": "5", "PsychologicalHarm": "3"}
    location = next(r for r in event["contained"] if r["resourceType"] == "Location")
    loc = {e["url"]: e["valueCode"] for e in location["extension"][0]["extension"]}
    assert loc["ServiceArea"] == "4" and loc["LocationWithinService"] == "10" and loc["ResponsibleSpecialty"] == "3"
    assert _sub(event["extension"], "adverse-event-agent-5") == {"InvolvedAgents": "10", "InvolvedPersonsActions": "2"}
    gov = _sub(event["extension"], "adverse-event-governance-5")
    assert gov == {"LocalAuthoritySafeguarding": True, "CqcNotify": True, "CqcCriteria": "3", "DutyOfCandour": False,
                   "DesignationsMentalHealth": True}
    ref = _sub(event["extension"], "adverse-event-reference-metadata-5")
    assert ref == {"ReferenceNumber": "LAN-2026-00001", "DataSharingOptOut": False}
    assert event["date"] == "2026-03-14T21:40:00+00:00"
    staff_event = doc["entry"][1]["resource"]
    assert not [r for r in staff_event["contained"] if r["resourceType"] == "Patient"]  # a staff victim
    assert _sub(staff_event["extension"], "adverse-event-agent-5")["InvolvedPersonsActions"] == "1"


def test_age_in_days_and_bracket():
    assert age_days(33) == 12276
    recs, _ = records(detail())
    assert recs[0].patients[0].age_bracket.code == 9


# ----- redaction ------------------------------------------------------------------------------------------------

def test_identifier_like_text_is_redacted():
    d = detail(description="Seen with NHS number 999 000 0018 on the ward.")
    redacted, n, kept = redact_detail(d, NOW.date())
    assert (n, kept) == (1, 0) and "999 000 0018" not in redacted.draft.description
    assert "[removed: an NHS number]" in redacted.draft.description


# ----- PDF ------------------------------------------------------------------------------------------------------

def _pages(data: bytes) -> list[str]:
    """The text of each page, extracted with pypdf (pure Python: no poppler needed)."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _text(data: bytes) -> str:
    return "\n".join(_pages(data))


def _fonts(data: bytes) -> set[tuple[str, bool]]:
    """(base font name, embedded?) for every font any page uses."""
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
            fonts.add((str(font["/BaseFont"]), embedded))
    return fonts


def test_incident_pdf_contents():
    long = "Patient A said something. " * 300  # forces a second page
    data = pdf.incident_summary(detail(description=long + " <b>&"), TAX, generated_at=NOW)
    assert data.startswith(b"%PDF")
    pages = _pages(data)
    text = " ".join(" ".join(pages).split())
    assert len(pages) >= 2 and all("OFFICIAL-SENSITIVE" in p for p in pages)
    assert all(f"Page {n} of {len(pages)}" in p for n, p in enumerate(pages, start=1))
    for expected in ("LAN-2026-00001", "Sexual assault (touching)", "AB-1", "Lounge", "Low harm", "Oak Ward",
                     "Do adult-safeguarding-concern", "Not applicable", "<b>&"):
        assert expected in text
    assert "reporter-id" not in text


def test_ward_report_pdf_figures():
    details = [detail(f"LAN-2026-{i:05d}", actions=(_action("police-discuss", due_days=-2),)) for i in range(1, 4)]
    summary = summarise(details, TAX, ward_name="Oak Ward", period=(date(2026, 1, 1), date(2026, 3, 31)), now=NOW)
    assert summary.total == 3 and dict(summary.by_month)["Mar 2026"] == 3 and len(summary.overdue) == 3
    assert dict(summary.by_pd09)["Low harm"] == 3
    data = pdf.ward_report(summary, generated_at=NOW)
    pages = _pages(data)
    assert all("OFFICIAL-SENSITIVE" in p and f"of {len(pages)}" in p for p in pages)
    text = "\n".join(pages)
    for expected in ("Oak Ward", "Sexual assault (touching)", "Patient on patient", "Do police-discuss",
                     "1 Jan 2026 to 31 Mar 2026", "Low harm", "Mar 2026"):
        assert expected in text
    facts = " ".join(text.split())
    assert "Incidents 3" in facts and "Of which overdue 3" in facts  # the report's figures
    assert "Patient A touched" not in text  # the ward report carries no incident text


def test_pdfs_embed_their_fonts_and_use_no_base_font():
    summary = summarise([detail()], TAX, ward_name="Oak Ward", period=(date(2026, 1, 1), date(2026, 3, 31)), now=NOW)
    for data in (pdf.incident_summary(detail(), TAX, generated_at=NOW), pdf.ward_report(summary, generated_at=NOW)):
        fonts = _fonts(data)
        assert fonts and all(embedded for _name, embedded in fonts), fonts
        assert all("Vera" in name for name, _ in fonts) and not any("Helvetica" in name for name, _ in fonts)


# ----- hand-broken files: the schema's rules bite (issue 14) -------------------------------------------------

def _two_records() -> bytes:
    recs, c = records(detail(), detail("LAN-2026-00002"))
    return nrls_xml.render(recs, c)


def _refused(data: bytes) -> str:
    with pytest.raises(ExportError) as err:
        nrls_xml.check(io.BytesIO(data))
    assert "nothing was written" in str(err.value) and "LAN-2026-00001 was" not in str(err.value)
    return str(err.value)


def test_a_record_copied_twice_is_refused():
    data = _two_records()
    assert nrls_xml.check(io.BytesIO(data)) is None
    message = _refused(data.replace(b"LAN-2026-00002", b"LAN-2026-00001"))
    assert "record 2 (LAN-2026-00001)" in message


def test_a_pd09_label_that_does_not_match_its_code_is_refused():
    data = _two_records()
    assert b'<PD09 code="2" label="Low harm"/>' in data
    message = _refused(data.replace(b'<PD09 code="2" label="Low harm"/>', b'<PD09 code="1" label="Death"/>', 1))
    assert "PD09" in message and "record 1 (LAN-2026-00001)" in message


@pytest.mark.parametrize("count", [b"1", b"3", b"0"])
def test_a_wrong_record_count_is_refused(count):
    data = _two_records()
    message = _refused(data.replace(b'recordCount="2"', b'recordCount="' + count + b'"'))
    assert "record count" in message


def test_the_schema_and_init_share_one_ods_rule():
    from core.taxonomy.ods import ODS_CODE_PATTERN, clean_ods_code

    assert etree.parse(str(nrls_xml.XSD_PATH)).xpath(
        "//xs:simpleType[@name='OdsCode']//xs:pattern/@value", namespaces={"xs": nrls_xml.XS_NS}) == [ODS_CODE_PATTERN]
    assert clean_ods_code(" rxx01 ") == "RXX01"
    assert clean_ods_code("RXXABCD") == "" and clean_ods_code("R-X") == "" and clean_ods_code("RX") == ""


# ----- redaction never pushes text past the schema's limit (issue 14) ---------------------------------------

NHS = "999 000 0018"  # passes the modulus-11 check; in the 999 test range, never issued


@pytest.mark.parametrize("room", [0, 1, 13, 14, 15, 400])
def test_redaction_at_the_limit_never_breaks_the_export(room):
    """A description at (or near) the 20,000-character limit holding an NHS number exports, without it."""
    filler = "x" * (MAX_FREE_TEXT - len(NHS) - 1 - room)
    text = f"{filler} {NHS}"
    redacted, found, kept = redact_detail(detail(description=text), NOW.date())
    assert (found, kept) == (1, 0)
    out = redacted.draft.description
    assert len(out) <= MAX_FREE_TEXT and NHS not in out and out.startswith(filler)
    # the full marker whenever it fits, else a marker no longer than what it replaced
    assert out.endswith("[removed: an NHS number]" if room >= 13 else "[removed]")
    recs, c = records(redacted)
    root = etree.fromstring(nrls_xml.render(recs, c))
    assert len(root.findtext("n:Incident/n:IN07", namespaces=N)) <= MAX_FREE_TEXT


def test_a_short_hit_at_the_limit_is_starred_not_grown():
    text = "y" * (MAX_FREE_TEXT - 7) + " M1 1AE"
    out, found, _kept = redact_text(text, NOW.date())
    assert found == 1 and len(out) == MAX_FREE_TEXT and out.endswith(" ******")


# ----- FHIR STU3: every resource validates, every contained resource is referenced (issue 14) ---------------

def _three_patients() -> IncidentDetail:
    d = detail("LAN-2026-00003")
    patient = PersonDraft(role="affected", person_type="patient", sex="male", age_years=51, harm_physical="low",
                          harm_psychological="moderate")
    return replace(d, draft=replace(d.draft, people=(*d.draft.people, patient, patient)))


def _bundle(*details, **kw) -> dict:
    recs, c = records(*details, **kw)
    return json.loads(lfpse_json.render(recs, c))


def _validate_stu3(doc: dict) -> None:
    """fhir.resources for FHIR STU3 (3.0.x), the version the LFPSE profiles are built on (docs/exports.md)."""
    from fhir.resources.STU3.adverseevent import AdverseEvent
    from fhir.resources.STU3.bundle import Bundle
    from fhir.resources.STU3.location import Location
    from fhir.resources.STU3.patient import Patient
    from fhir.resources.STU3.practitioner import Practitioner

    Bundle.model_validate(doc)
    by_type = {"Patient": Patient, "Location": Location, "Practitioner": Practitioner}
    for e in doc["entry"]:
        AdverseEvent.model_validate(e["resource"])
        for resource in e["resource"]["contained"]:
            by_type[resource["resourceType"]].model_validate(resource)


def _references(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["reference"]} if isinstance(node.get("reference"), str) else set()
        return found.union(*(_references(v) for k, v in node.items() if k != "contained"), set())
    if isinstance(node, list):
        return set().union(*(_references(v) for v in node), set())
    return set()


@pytest.mark.parametrize("free_text", [True, False])
def test_every_lfpse_resource_validates_as_fhir_stu3(free_text):
    doc = _bundle(detail(), detail("LAN-2026-00002", perpetrator="staff", precision="approximate"),
                  detail("LAN-2026-00004", affected_type="staff"), _three_patients(), include_free_text=free_text)
    _validate_stu3(doc)
    for e in doc["entry"]:
        event = e["resource"]
        assert e["fullUrl"].startswith("urn:uuid:") and len(e["fullUrl"]) == len("urn:uuid:") + 36
        # dom-3: every contained resource is referenced from elsewhere in the resource
        assert {"#" + c["id"] for c in event["contained"]} <= _references(event)


def test_stu3_validation_bites():
    doc = _bundle(detail())
    doc["entry"][0]["resource"]["actuality"] = "actual"  # an R4 element, not STU3
    with pytest.raises(ValueError):
        _validate_stu3(doc)


def test_withheld_free_text_is_marked_with_data_absent_reason():
    event = _bundle(detail(description="SECRET-TEXT-2"), include_free_text=False)["entry"][0]["resource"]
    assert "description" not in event
    assert event["_description"]["extension"] == [{"url": lfpse_json.DATA_ABSENT_REASON, "valueCode": "masked"}]
    outcome = next(x for x in event["extension"] if x["url"].endswith("adverse-event-outcome-5"))
    assert outcome["extension"][0]["extension"][0]["valueCode"] == "masked"


def test_a_staff_victim_incident_carries_its_harm():
    event = _bundle(detail(affected_type="staff"))["entry"][0]["resource"]
    assert not any(c["resourceType"] == "Patient" for c in event["contained"]) and "subject" not in event
    codes = {c["system"].split("#")[1]: c["code"] for c in event["seriousness"]["coding"]}
    assert codes == {"nrls-pd09": "2", "lfpse-level-of-physical-harm-5": "5",
                     "lfpse-level-of-psychological-harm-5": "3"}


def test_the_uat_host_is_named_as_such():
    doc = _bundle(detail())
    assert lfpse_json.PROFILE_BASE.startswith(lfpse_json.UAT_HOST) and "uat" in lfpse_json.UAT_HOST
    assert "UAT test host" in doc["meta"]["tag"][0]["display"]


# ----- PDFs: headings kept with their tables, honest shares, line breaks, real metadata (issue 14) ------------

def _page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_no_ward_report_heading_is_stranded_at_a_page_foot():
    base = summarise([detail()], TAX, ward_name="Oak Ward", period=(date(2026, 1, 1), date(2026, 3, 31)), now=NOW)
    for rows in range(10, 45):
        s = replace(base, by_type=tuple((f"Type number {i}", 1) for i in range(rows)))
        pages = _page_texts(pdf.ward_report(s, generated_at=NOW))
        for heading, table in (("Who to whom", "Alleged perpetrator on affected person"),
                               ("Harm", "NRLS degree of harm")):
            where = [i for i, text in enumerate(pages) if f"\n{heading}\n" in f"\n{text}\n"]
            assert where and table in pages[where[0]], (rows, heading)


def test_shares_are_never_zero_for_something_that_happened():
    assert [pdf.share(n, 1250) for n in (0, 1, 6, 7, 1249, 1250)] == ["0%", "<1%", "<1%", "1%", ">99%", "100%"]
    assert pdf.share(0, 0) == "-"


def test_a_bare_carriage_return_breaks_the_line():
    data = pdf.incident_summary(detail(description="First line\rSecond line"), TAX, generated_at=NOW)
    text = "\n".join(_page_texts(data))
    assert "First line\nSecond line" in text and "First lineSecond line" not in text


def test_pdf_metadata_says_when_it_was_made():
    reader = PdfReader(io.BytesIO(pdf.incident_summary(detail(), TAX, generated_at=NOW)))
    assert reader.metadata.creation_date == NOW and reader.metadata.title.startswith("Incident summary")
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
