"""NRLS-dataset-aligned XML (Lantern local schema v1), validated against the shipped XSD before use (core layer).

Pure: ExportRecords in, bytes out. Built with lxml's tree API (never string concatenation) and checked
against resources/lantern-nrls-v1.xsd; a document that fails raises ExportError and no bytes are returned.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

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

XSD_PATH = Path(__file__).resolve().parents[2] / "resources" / "lantern-nrls-v1.xsd"
_N = f"{{{NRLS_NS}}}"
_X = f"{{{EXT_NS}}}"
NSMAP = {None: NRLS_NS, "x": EXT_NS}


@functools.cache
def schema() -> etree.XMLSchema:
    """The shipped XSD, parsed once."""
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


def build_tree(records: Iterable[ExportRecord], ctx: ExportContext) -> etree._Element:
    """The export as an element tree (not yet validated)."""
    records = list(records)
    root = etree.Element(_N + "NRLSExport", nsmap=NSMAP, schemaVersion=SCHEMA_VERSION,
                         generatedAt=ctx.generated_at.isoformat(timespec="seconds"), generator=ctx.generator,
                         nrlsCodeListStatus="partial")
    batch = _sub(root, "Batch", organisationCode=ctx.ods_code, recordCount=str(len(records)),
                 freeText="included" if ctx.include_free_text else "withheld")
    if ctx.period_start:
        batch.set("periodStart", ctx.period_start.isoformat())
    if ctx.period_end:
        batch.set("periodEnd", ctx.period_end.isoformat())
    for record in records:
        _incident(root, record)
    return root


def render(records: Iterable[ExportRecord], ctx: ExportContext) -> bytes:
    """Build, validate and serialise. Raises ExportError (naming only the element, never its text)."""
    root = build_tree(records, ctx)
    validate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def validate(root: etree._Element) -> None:
    """Check a tree against the shipped XSD; ExportError says where it failed, without quoting any values."""
    xsd = schema()
    if xsd.validate(root):
        return
    error = xsd.error_log.last_error
    where = _describe(root, error.path if error is not None else None)
    raise ExportError(f"The export did not pass its schema check at {where}, so nothing was written. "
                      "This is a fault in Lantern, not in the records: please report it to your administrator.")


def _describe(root: etree._Element, path: str | None) -> str:
    """'RM04 in record 1 (LAN-2026-00001)': element name and incident reference only, never a value."""
    found = root.getroottree().xpath(path) if path else []
    if not found or not isinstance(found[0], etree._Element):
        return "the document"
    element = found[0]
    where = etree.QName(element).localname
    incident = next((el for el in element.iterancestors() if el.tag == _N + "Incident"), None)
    if element.tag == _N + "Incident":
        incident = element
    if incident is not None:
        number = root.findall(_N + "Incident").index(incident) + 1
        reference = incident.findtext(_N + "TRUSTINCIDENTID") or "no reference"
        where += f" in record {number} ({reference})"
    return where


# ----- elements -------------------------------------------------------------------------------------

def _sub(parent, name: str, text: str | None = None, ns: str = _N, **attrs) -> etree._Element:
    el = etree.SubElement(parent, ns + name, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _coded(parent, name: str, value: Coded | None, code_attr: str = "code", ns: str = _N) -> None:
    if value is not None:
        _sub(parent, name, ns=ns, **{code_attr: str(value.code), "label": value.label})


def _text(parent, name: str, value: str | None, ns: str = _N, *, required: bool = True) -> None:
    if value == "" and not required:
        return
    if value is None:
        _sub(parent, name, ns=ns, withheld="true")
    else:
        _sub(parent, name, value, ns=ns)


def _incident(root, r: ExportRecord) -> None:
    inc = _sub(root, "Incident")
    _sub(inc, "TRUSTINCIDENTID", r.reference)
    _sub(inc, "RP07", r.ods_code)
    _sub(inc, "RP02", code="", localCode=RP02_LOCAL[0], label=RP02_LOCAL[1])
    _sub(inc, "RM04", code=str(RM04_LRMS[0]), label=RM04_LRMS[1])
    _sub(inc, "IN01", r.occurred_date)
    if r.occurred_time:
        _sub(inc, "IN02", r.occurred_time)
    _sub(inc, "IN03", lvl1Label=IN03_LVL1_LABEL, localCode=str(r.location.code), localLabel=r.location.label)
    _sub(inc, "IN03_TEXT", r.location_text)
    _sub(inc, "IN04", code=str(IN04_ENGLAND[0]), label=IN04_ENGLAND[1])
    _sub(inc, "IN05", lvl1Label=r.in05_lvl1, lvl2Label=IN05_LVL2_LABEL)
    _sub(inc, "IN05_TEXT", "; ".join(t.label for t in r.types))
    _text(inc, "IN07", r.description)
    _coded(inc, "PD09", r.pd09)
    for patient in r.patients:
        _patient(inc, patient, r.specialty)
    _extension(inc, r)


def _patient(parent, p: PatientRecord, specialty) -> None:
    el = _sub(parent, "Patient", sequence=str(p.sequence))
    if p.age_years is not None:
        _sub(el, "AGE_YEARS", str(p.age_years))
    _coded(el, "DV01", p.age_bracket, "lfpseAgeBracket")
    _coded(el, "PD02", p.sex, "lfpseGender")
    lvl1, lvl2, code = specialty
    _sub(el, "PD05", lvl1Label=lvl1, lvl2Label=lvl2 or None, lfpseSpecialty=str(code) if code else None)
    _coded(el, "PD09", p.pd09)
    _coded(el, "LFPSE_OT001", p.physical)
    _coded(el, "LFPSE_OT002", p.psychological)


def _extension(parent, r: ExportRecord) -> None:
    ext = _sub(parent, "SexualSafety", ns=_X, perpetratorType=r.perpetrator_type, pair=r.pair,
               pairLabel=r.pair_label or None, timePrecision=r.precision,
               patientSafetyIncident=bool_text(r.patient_safety_incident),
               safeguardingReferral=bool_text(r.safeguarding_referral),
               policeInformed=bool_text(r.police_informed) or None,
               cqcNotifiable=bool_text(r.cqc_notifiable), dutyOfCandour=bool_text(r.duty_of_candour),
               detainedUnderMHA=bool_text(r.detained_under_mha))
    for t in r.types:
        _coded(ext, "Type", t, ns=_X)
    for f in r.flags:
        _coded(ext, "Flag", f, ns=_X)
    _coded(ext, "Shift", r.shift, ns=_X)
    for p in r.people:
        _sub(ext, "Person", ns=_X, role=p.role, roleLabel=p.role_label, type=p.person_type, typeLabel=p.type_label)
    _text(ext, "ImmediateActions", r.immediate_actions, ns=_X, required=False)
