"""NRLS-dataset-aligned XML (Lantern local schema v1), validated against the shipped XSD before use (core layer).

Pure: ExportRecords in, bytes out. The document is streamed out element by element by one small writer
that escapes every value (text and attributes) by construction; the bytes are then parsed back and
validated against resources/lantern-nrls-v1.xsd (and the two rules XSD 1.0 cannot express), so what is
checked is exactly what will be written. A document that fails raises ExportError and nothing is kept.
The service streams the document to a temporary file and checks that file as it streams back, so memory
does not grow with the number of records.
"""

from __future__ import annotations

import copy
import functools
import io
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from core.exports.mapping import (
    EXT_NS,
    IN03_LVL1_LABEL,
    IN04_ENGLAND,
    IN05_LVL2_LABEL,
    NRLS_NS,
    RM04_LRMS,
    RP02_LOCAL,
    SCHEMA_VERSION,
    Coded,
    ExportContext,
    ExportError,
    ExportRecord,
    PatientRecord,
    bool_text,
)
from core.exports.render import render as render_with
from core.taxonomy import PD09_LABELS
from core.taxonomy.ods import ODS_CODE_PATTERN

XSD_PATH = Path(__file__).resolve().parents[2] / "resources" / "lantern-nrls-v1.xsd"
_N = f"{{{NRLS_NS}}}"
_X = f"{{{EXT_NS}}}"
NSMAP = {None: NRLS_NS, "x": EXT_NS}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
XS_NS = "http://www.w3.org/2001/XMLSchema"
FLUSH_PARTS = 20_000  # string pieces held before writing them out (a few hundred records)


@functools.cache
def schema() -> etree.XMLSchema:
    """The shipped XSD, parsed once. Its ODS code pattern must be the one rule init uses (core.taxonomy.ods)."""
    doc = etree.parse(str(XSD_PATH))
    pattern = doc.xpath("//xs:simpleType[@name='OdsCode']//xs:pattern/@value", namespaces={"xs": XS_NS})
    if pattern != [ODS_CODE_PATTERN]:
        raise ExportError("The NRLS export schema and Lantern disagree about ODS codes, so nothing was written. "
                          "This is a fault in Lantern: please report it to your administrator.")
    return etree.XMLSchema(doc)


@functools.cache
def _streaming_schema() -> etree.XMLSchema:
    """The shipped XSD less its one identity constraint (OneRecordPerIncident, xs:unique): libxml2 keeps every key
    of a unique constraint in memory (about 320 bytes a record), so check() applies that rule itself."""
    doc = etree.parse(str(XSD_PATH))
    for unique in doc.xpath("//xs:unique", namespaces={"xs": XS_NS}):
        unique.getparent().remove(unique)
    schema()  # the shipped XSD's own checks (its ODS code pattern)
    return etree.XMLSchema(doc)


class _References:
    """The references seen, in a private temporary SQLite file (deleted when closed; its page cache bounds the
    memory), so one record per incident is checked however large the export."""

    def __enter__(self) -> _References:
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("CREATE TABLE seen (reference TEXT PRIMARY KEY) WITHOUT ROWID")
        self.db.execute("BEGIN")
        return self

    def is_new(self, reference: str) -> bool:
        try:
            self.db.execute("INSERT INTO seen VALUES (?)", (reference,))
        except sqlite3.IntegrityError:
            return False
        return True

    def __exit__(self, *exc) -> None:
        self.db.close()


def serialise(records: Iterable[ExportRecord], ctx: ExportContext) -> bytes:
    """The export document as UTF-8 bytes, indented, every value escaped (not yet validated), through Writer
    (core.exports.render)."""
    return render_with(Writer, records, ctx)


class Writer:
    """Streams the document to a binary file, a few hundred records at a time. `count` is the recordCount
    announced in Batch, known before the records are read; check() refuses a file where they differ."""

    def __init__(self, fh: BinaryIO, ctx: ExportContext, count: int) -> None:
        self.fh, self.rows, self.w = fh, 0, _Writer()
        self.w.out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.w.open("NRLSExport", 0, xmlns=NRLS_NS, **{"xmlns:x": EXT_NS}, schemaVersion=SCHEMA_VERSION,
                    generatedAt=ctx.generated_at.isoformat(timespec="seconds"), generator=ctx.generator,
                    nrlsCodeListStatus="partial")
        self.w.empty("Batch", 1, organisationCode=ctx.ods_code, recordCount=str(count),
                     freeText="included" if ctx.include_free_text else "withheld",
                     periodStart=ctx.period_start.isoformat() if ctx.period_start else None,
                     periodEnd=ctx.period_end.isoformat() if ctx.period_end else None)

    def add(self, record: ExportRecord) -> None:
        _incident(self.w, record)
        self.rows += 1
        if len(self.w.out) > FLUSH_PARTS:
            self._flush()

    def end(self) -> int:
        self.w.close("NRLSExport", 0)
        self._flush()
        return self.rows

    def _flush(self) -> None:
        self.fh.write("".join(self.w.out).encode("utf-8"))
        self.w.out.clear()


def parse(data: bytes) -> etree._Element:
    """Parse exported bytes (no entities, no network)."""
    return etree.fromstring(data, _PARSER)


def build_tree(records: Iterable[ExportRecord], ctx: ExportContext) -> etree._Element:
    """The export as an element tree (not yet validated)."""
    return parse(serialise(records, ctx))


def render(records: Iterable[ExportRecord], ctx: ExportContext) -> bytes:
    """Serialise and check (check). Raises ExportError (naming only the element, never its text)."""
    data = serialise(records, ctx)
    check(io.BytesIO(data))
    return data


def validate(root: etree._Element) -> None:
    """Check a tree: the XSD and the rules it cannot express (see check)."""
    check(io.BytesIO(etree.tostring(root)))


def check(source: str | os.PathLike | BinaryIO) -> None:
    """Check an export file (a path or a seekable binary file) as it streams past, so memory stays flat: the
    XSD, then the rules the streaming XSD check leaves to Lantern: Batch/@recordCount equals the records, each
    PD09 label matches its code, and no incident is there twice (the XSD's xs:unique, kept on disk: see
    _streaming_schema). ExportError says where it failed, without quoting any value."""
    state = {"records": 0, "reference": "", "declared": None}
    parser = etree.iterparse(source, events=("end",), tag=_CHECKED_TAGS, schema=_streaming_schema(),
                             resolve_entities=False, no_network=True, huge_tree=True)  # four tags reach Python
    try:
        with _References() as seen:
            for _event, el in parser:
                _check_element(el, state, seen)
    except etree.XMLSyntaxError as err:
        raise ExportError(_diagnose(source, err)) from None
    if state["declared"] != state["records"]:
        raise ExportError(f"The export's record count ({state['declared']}) does not match its "
                          f"{state['records']} records, so nothing was written. {_FAULT}")


_FAULT = "This is a fault in Lantern, not in the records: please report it to your administrator."
_PD09_LABEL = {str(code): label for code, label in PD09_LABELS.items()}
_CHECKED_TAGS = [_N + "Batch", _N + "TRUSTINCIDENTID", _N + "PD09", _N + "Incident"]


def _check_element(el: etree._Element, state: dict, seen: _References) -> None:
    tag = el.tag
    if tag == _N + "TRUSTINCIDENTID":
        state["reference"] = el.text or ""
        if not seen.is_new(state["reference"]):
            raise ExportError(f"The export holds one incident twice, at TRUSTINCIDENTID in record "
                              f"{state['records'] + 1} ({state['reference']}), so nothing was written. {_FAULT}")
    elif tag == _N + "PD09" and _PD09_LABEL.get(el.get("code")) != el.get("label"):
        raise ExportError(f"The export's PD09 label does not match its code in record {state['records'] + 1} "
                          f"({state['reference'] or 'no reference'}), so nothing was written. {_FAULT}")
    elif tag == _N + "Batch":
        state["declared"] = int(el.get("recordCount"))
    elif tag == _N + "Incident":
        state["records"] += 1
        state["reference"] = ""
        _forget(el)


def _forget(el: etree._Element) -> None:
    """Drop a finished record and the ones before it, so memory stays flat."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        del parent[:-1]


_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")  # libxml2's name for the element that failed
_OUTSIDE_RECORDS = {"NRLSExport", "Batch"}


def _diagnose(source, err: etree.XMLSyntaxError) -> str:
    """What failed and where: the element's name, and the record's number and reference, never a value
    (libxml2's message quotes it). A streaming check says what failed but not where, so on failure the file is read
    again, one record at a time, each checked alone; a failed trust-wide file (over a gigabyte) is never held."""
    found = _ELEMENT.match(err.msg or "")  # a schema error names its element first; a syntax error does not
    if not found:
        return f"The export was not well-formed XML, so nothing was written. {_FAULT}"
    where = found.group(1)
    if where not in _OUTSIDE_RECORDS:
        number, reference = _failing_record(source)
        if number:
            where += f" in record {number} ({reference or 'no reference'})"
    return f"The export did not pass its schema check at {where}, so nothing was written. {_FAULT}"


def _failing_record(source) -> tuple[int, str]:
    """The number and reference of the first record that fails the schema on its own (in a document of the
    file's root, its Batch and that record alone), or (0, "")."""
    if hasattr(source, "seek"):
        source.seek(0)
    xsd, batch, number = _streaming_schema(), None, 0
    for _event, el in etree.iterparse(source, events=("end",), tag=[_N + "Batch", _N + "Incident"],
                                      resolve_entities=False, no_network=True, huge_tree=True):
        if el.tag == _N + "Batch":
            batch = copy.deepcopy(el)
            batch.set("recordCount", "1")
            continue
        number += 1
        root = el.getparent()
        alone = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
        alone.extend([copy.deepcopy(batch), copy.deepcopy(el)])
        if not xsd.validate(alone):
            return number, el.findtext(_N + "TRUSTINCIDENTID") or ""
        _forget(el)
    return 0, ""


# ----- the writer ----------------------------------------------------------------------------------------

def _attr_value(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _text_value(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


@functools.lru_cache(maxsize=8192)
def _tag(name: str, depth: int, attrs: tuple[tuple[str, str | None], ...], end: str) -> str:
    """An indented start tag (or empty element) with escaped attributes. Cached: nearly every attribute
    value comes from a short list (codes and labels), so each distinct tag is escaped once per run."""
    parts = "".join(f' {k}="{_attr_value(v)}"' for k, v in attrs if v is not None)
    return f"{'  ' * depth}<{name}{parts}{end}"


class _Writer:
    """Appends indented elements to a list of strings. Names are our constants; every value is escaped."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def open(self, name: str, depth: int, **attrs) -> None:
        self.out.append(_tag(name, depth, tuple(attrs.items()), ">\n"))

    def close(self, name: str, depth: int) -> None:
        self.out.append(f"{'  ' * depth}</{name}>\n")

    def empty(self, name: str, depth: int, **attrs) -> None:
        self.out.append(_tag(name, depth, tuple(attrs.items()), "/>\n"))

    def text(self, name: str, depth: int, value: str, **attrs) -> None:
        self.out.append(f"{_tag(name, depth, tuple(attrs.items()), '>')}{_text_value(value)}</{name}>\n")

    def coded(self, name: str, depth: int, value: Coded | None, code_attr: str = "code") -> None:
        if value is not None:
            self.empty(name, depth, **{code_attr: str(value.code), "label": value.label})

    def free_text(self, name: str, depth: int, value: str | None, *, required: bool = True) -> None:
        """Free text, or an empty element marked withheld when the user left free text out."""
        if value == "" and not required:
            return
        if value is None:
            self.empty(name, depth, withheld="true")
        elif value == "":
            self.empty(name, depth)
        else:
            self.text(name, depth, value)


# ----- elements -------------------------------------------------------------------------------------

def _incident(w: _Writer, r: ExportRecord) -> None:
    w.open("Incident", 1)
    w.text("TRUSTINCIDENTID", 2, r.reference)
    w.text("RP07", 2, r.ods_code)
    w.empty("RP02", 2, code="", localCode=RP02_LOCAL[0], label=RP02_LOCAL[1])
    w.empty("RM04", 2, code=str(RM04_LRMS[0]), label=RM04_LRMS[1])
    w.text("IN01", 2, r.occurred_date)
    if r.occurred_time:
        w.text("IN02", 2, r.occurred_time)
    w.empty("IN03", 2, lvl1Label=IN03_LVL1_LABEL, localCode=str(r.location.code), localLabel=r.location.label)
    w.free_text("IN03_TEXT", 2, r.location_text)
    w.empty("IN04", 2, code=str(IN04_ENGLAND[0]), label=IN04_ENGLAND[1])
    w.empty("IN05", 2, lvl1Label=r.in05_lvl1, lvl2Label=IN05_LVL2_LABEL)
    w.free_text("IN05_TEXT", 2, "; ".join(t.label for t in r.types))
    w.free_text("IN07", 2, r.description)
    w.coded("PD09", 2, r.pd09)
    for patient in r.patients:
        _patient(w, patient, r.specialty)
    _extension(w, r)
    w.close("Incident", 1)


def _patient(w: _Writer, p: PatientRecord, specialty) -> None:
    w.open("Patient", 2, sequence=str(p.sequence))
    if p.age_years is not None:
        w.text("AGE_YEARS", 3, str(p.age_years))
    w.coded("DV01", 3, p.age_bracket, "lfpseAgeBracket")
    w.coded("PD02", 3, p.sex, "lfpseGender")
    lvl1, lvl2, code = specialty
    w.empty("PD05", 3, lvl1Label=lvl1, lvl2Label=lvl2 or None, lfpseSpecialty=str(code) if code else None)
    w.coded("PD09", 3, p.pd09)
    w.coded("LFPSE_OT001", 3, p.physical)
    w.coded("LFPSE_OT002", 3, p.psychological)
    w.close("Patient", 2)


def _extension(w: _Writer, r: ExportRecord) -> None:
    w.open("x:SexualSafety", 2, perpetratorType=r.perpetrator_type, pair=r.pair, pairLabel=r.pair_label or None,
           timePrecision=r.precision, patientSafetyIncident=bool_text(r.patient_safety_incident),
           safeguardingReferral=bool_text(r.safeguarding_referral),
           policeInformed=bool_text(r.police_informed) or None, cqcNotifiable=bool_text(r.cqc_notifiable),
           dutyOfCandour=bool_text(r.duty_of_candour), detainedUnderMHA=bool_text(r.detained_under_mha))
    for t in r.types:
        w.coded("x:Type", 3, t)
    for f in r.flags:
        w.coded("x:Flag", 3, f)
    w.coded("x:Shift", 3, r.shift)
    for p in r.people:
        w.empty("x:Person", 3, role=p.role, roleLabel=p.role_label, type=p.person_type, typeLabel=p.type_label)
    w.free_text("x:ImmediateActions", 3, r.immediate_actions, required=False)
    w.close("x:SexualSafety", 2)
