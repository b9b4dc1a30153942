"""LFPSE-aligned FHIR JSON: a Bundle with one AdverseEvent per incident, LFPSE taxonomy v5 of January 2023 (core layer).

Pure: ExportRecords in, bytes out. It follows the v5 profile names and codes in
the LFPSE v5 taxonomy (docs/exports.md), on FHIR STU3 (3.0.x), the version the LFPSE service's profiles
are built on (evidence in docs/exports.md); every resource validates as STU3 (tests, fhir.resources).
It has NOT been checked by the live LFPSE service: where date and description sit, and the mandatory
rules per event type, are unconfirmed. The profile URLs are those of NHS England's UAT (test) host, the
only ones published; the bundle says so in its meta tag. A trust's risk team or LRMS must check it
before anything is submitted.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable
from typing import BinaryIO

from core.exports.mapping import EXT_NS, ExportContext, ExportRecord, PatientRecord, age_days
from core.exports.render import render as render_with

FHIR_VERSION = "3.0.2"  # STU3: see docs/exports.md for the evidence
# The UAT (test) host: the only published source of the v5 profiles. Say so wherever it is used.
UAT_HOST = "https://psims-uat.azure-api.net"
PROFILE_BASE = UAT_HOST + "/taxonomy/fhir/StructureDefinition/"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
WITHHELD = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "masked"}]}  # left out by the person exporting
OTHER_PATIENT_URL = EXT_NS + "#affected-patient"  # patients after the first (AdverseEvent.subject is 0..1)
# Harm codings on AdverseEvent.seriousness. The LFPSE code system URLs are not published (only the value sets
# level-of-physical-harm-5 and level-of-psychological-harm-5), so the systems are named in our own namespace.
HARM_SYSTEMS = {"pd09": EXT_NS + "#nrls-pd09", "physical": EXT_NS + "#lfpse-level-of-physical-harm-5",
                "psychological": EXT_NS + "#lfpse-level-of-psychological-harm-5"}
TAXONOMY_VERSION = "5"
LOCAL_TYPES_URL = EXT_NS + "#incident-types"

SERVICE_AREA_MENTAL_HEALTH = "4"
LOCATION_MENTAL_HEALTH_UNIT = "10"
AGENT_NONE_OF_THE_ABOVE = "10"
CQC_ABUSE_CRITERION = "3"
REPORTER_STAFF = "3"
# x:perpetratorType -> InvolvedPersonsActions (1 healthcare staff, 2 other patient(s), 4 don't know, 5 other)
INVOLVED_PERSONS = {"staff": "1", "patient": "2", "unknown": "4", "visitor": "5", "other": "5"}
INVOLVED_OTHER_TEXT = {"visitor": "Visitor", "other": "Other person"}
# Lantern shift -> EstimatedTime (time-of-incident brackets)
ESTIMATED_TIME = {"day": "1", "night": "2", "morning_handover": "3", "evening_handover": "4"}


def _ext(url: str, **value) -> dict:
    """One sub-extension: relative url name and a single value[x]."""
    return {"url": url, **value}


def _block(profile: str, parts: list[dict]) -> dict:
    return {"url": PROFILE_BASE + profile, "extension": parts}


# The blocks below depend on a few coded values that repeat from record to record: each is made once and
# shared (json.dumps only reads them; nothing changes a block after it is made).
@functools.lru_cache(maxsize=4096)
def _patient(p: PatientRecord) -> dict:
    parts = [_ext("PatientSequence", valueInteger=p.sequence)]
    if p.age_years is not None and p.age_years >= 1:
        parts.append(_ext("AgeAtTimeOfIncidentDays", valueInteger=age_days(p.age_years)))
    elif p.age_bracket is not None:
        parts.append(_ext("AgeBracket", valueCode=str(p.age_bracket.code)))
    if p.sex is not None:
        parts.append(_ext("Gender", valueCode=str(p.sex.code)))
    if p.physical is not None:
        parts.append(_ext("PhysicalHarm", valueCode=str(p.physical.code)))
    if p.psychological is not None:
        parts.append(_ext("PsychologicalHarm", valueCode=str(p.psychological.code)))
    return {"resourceType": "Patient", "id": f"patient{p.sequence}",
            "meta": {"profile": [PROFILE_BASE + "adverse-event-patient-5"]},
            "extension": [_block("patient-information-5", parts)]}


def _location(r: ExportRecord) -> dict:
    return _location_block(r.ods_code, r.specialty[2])


@functools.lru_cache(maxsize=64)
def _location_block(ods_code: str, specialty) -> dict:
    parts = [_ext("LocationKnown", valueCode="y"),
             _ext("Organisation", valueCode=ods_code),
             _ext("ServiceArea", valueCode=SERVICE_AREA_MENTAL_HEALTH),
             _ext("LocationWithinService", valueCode=LOCATION_MENTAL_HEALTH_UNIT)]
    if specialty:
        parts.append(_ext("ResponsibleSpecialty", valueCode=str(specialty)))
    return {"resourceType": "Location", "id": "location1",
            "meta": {"profile": [PROFILE_BASE + "adverse-event-location-5"]},
            "extension": [_block("location-details-5", parts)]}


def _practitioner(r: ExportRecord) -> dict:
    return _practitioner_block(r.ods_code)


@functools.lru_cache(maxsize=16)
def _practitioner_block(ods_code: str) -> dict:
    parts = [_ext("ReporterType", valueCode=REPORTER_STAFF), _ext("ReporterOrganisation", valueCode=ods_code)]
    return {"resourceType": "Practitioner", "id": "reporter1",
            "meta": {"profile": [PROFILE_BASE + "adverse-event-practitioner-5"]},
            "extension": [_block("practitioner-details-5", parts)]}


def _estimated_date(r: ExportRecord) -> dict:
    if r.occurred_time:
        return _block("adverse-event-estimated-date-5", [_ext("PreciseTime", valueTime=r.occurred_time + ":00")])
    parts = [_ext("ApproximateDate", valueString=r.occurred_date)]
    if r.shift is not None:
        parts.append(_ext("EstimatedTime", valueCode=ESTIMATED_TIME.get(str(r.shift.code), "6")))
    return _block("adverse-event-estimated-date-5", parts)


def _agent(r: ExportRecord) -> dict:
    return _agent_block(r.perpetrator_type)


@functools.lru_cache(maxsize=16)
def _agent_block(perpetrator_type: str) -> dict:
    parts = [_ext("InvolvedAgents", valueCode=AGENT_NONE_OF_THE_ABOVE),
             _ext("InvolvedPersonsActions", valueCode=INVOLVED_PERSONS[perpetrator_type])]
    if perpetrator_type in INVOLVED_OTHER_TEXT:
        parts.append(_ext("InvolvedPersonsActionsOther", valueString=INVOLVED_OTHER_TEXT[perpetrator_type]))
    return _block("adverse-event-agent-5", parts)


def _governance(r: ExportRecord) -> dict:
    return _governance_block(r.safeguarding_referral, r.cqc_notifiable, r.duty_of_candour, r.detained_under_mha)


@functools.lru_cache(maxsize=16)
def _governance_block(safeguarding: bool, cqc: bool, candour: bool, detained: bool) -> dict:
    parts = [_ext("LocalAuthoritySafeguarding", valueBoolean=safeguarding), _ext("CqcNotify", valueBoolean=cqc)]
    if cqc:
        parts.append(_ext("CqcCriteria", valueCode=CQC_ABUSE_CRITERION))
    parts += [_ext("DutyOfCandour", valueBoolean=candour), _ext("DesignationsMentalHealth", valueBoolean=detained)]
    return _block("adverse-event-governance-5", parts)


def _seriousness(r: ExportRecord) -> dict | None:
    """The incident's worst harm (PD09 and the two LFPSE scales), whoever was affected: for an incident whose
    only affected person is staff, the one place its harm is carried (no Patient resource is made for staff)."""
    codings = [{"system": HARM_SYSTEMS[name], "code": str(value.code), "display": value.label}
               for name, value in (("pd09", r.pd09), ("physical", r.physical), ("psychological", r.psychological))
               if value is not None]
    return {"coding": codings} if codings else None


def _outcome(r: ExportRecord) -> dict | None:
    if r.immediate_actions is None:  # withheld: say so rather than leave it out
        return _block("adverse-event-outcome-5", [{"url": "ImmediateActions", **WITHHELD}])
    if r.immediate_actions:
        return _block("adverse-event-outcome-5", [_ext("ImmediateActions", valueString=r.immediate_actions)])
    return None


def adverse_event(r: ExportRecord) -> dict:
    """One incident as an LFPSE v5 AdverseEvent (patients, location and reporter contained, each referenced)."""
    contained = [_patient(p) for p in r.patients] + [_location(r), _practitioner(r)]
    extensions = [_estimated_date(r), _agent(r), _outcome(r)]
    extensions += [
        _governance(r),
        _block("adverse-event-reference-metadata-5", [_ext("ReferenceNumber", valueString=r.reference),
                                                      _ext("DataSharingOptOut", valueBoolean=False)]),
        # Lantern's own incident types: LFPSE has no incident category. A local extension, not part of v5.
        {"url": LOCAL_TYPES_URL, "extension": [_ext("type", valueCoding={"system": EXT_NS + "#type",
                                                                          "code": str(t.code), "display": t.label})
                                               for t in r.types]},
    ]
    # Every contained resource is referenced (FHIR rule dom-3): patient 1 as the subject, the others here.
    extensions += [{"url": OTHER_PATIENT_URL, "valueReference": {"reference": f"#patient{p.sequence}"}}
                   for p in r.patients[1:]]
    event: dict = {
        "resourceType": "AdverseEvent",
        "id": r.reference,
        "meta": {"profile": [PROFILE_BASE + "patient-safety-adverse-event-5"]},
        "contained": contained,
        "extension": [e for e in extensions if e is not None],
        "identifier": {"system": f"urn:x-local:lantern:{r.ods_code}:incident", "value": r.reference},
        "date": r.occurred_iso,
        "location": {"reference": "#location1"},
        "recorder": {"reference": "#reporter1"},
    }
    if r.patients:
        event["subject"] = {"reference": "#patient1"}
    seriousness = _seriousness(r)
    if seriousness:
        event["seriousness"] = seriousness
    if r.description is None:
        event["_description"] = WITHHELD
    else:
        event["description"] = r.description
    return event


def full_url(r: ExportRecord) -> str:
    """A stable urn:uuid for the incident's entry (the same incident gets the same one in every export)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:x-local:lantern:{r.ods_code}:incident:{r.reference}"))


def entry(r: ExportRecord) -> dict:
    return {"fullUrl": full_url(r), "resource": adverse_event(r)}


def bundle(records: Iterable[ExportRecord], ctx: ExportContext) -> dict:
    """The FHIR STU3 Bundle (type collection) holding one AdverseEvent per incident."""
    return {**_bundle_head(ctx), "entry": [entry(r) for r in records]}


def _bundle_head(ctx: ExportContext) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "meta": {
            "lastUpdated": ctx.generated_at.isoformat(timespec="seconds"),
            "tag": [{"system": EXT_NS + "#export", "code": "lfpse-v5-aligned",
                     "display": f"LFPSE taxonomy v5 (January 2023) aligned, FHIR STU3; profiles named on the UAT "
                                f"test host {UAT_HOST}; not checked by the live service"}],
        },
    }


class Writer:
    """Streams the bundle to a binary file an entry at a time (memory does not grow with the records)."""

    def __init__(self, fh: BinaryIO, ctx: ExportContext, count: int = 0) -> None:
        self.fh, self.rows, self.parts = fh, 0, []
        head = json.dumps(_bundle_head(ctx), ensure_ascii=False, separators=(",", ":"))
        fh.write(head[:-1].encode("utf-8") + b',"entry":[')

    def add(self, record: ExportRecord) -> None:
        self.parts.append(("," if self.rows else "") + json.dumps(entry(record), ensure_ascii=False,
                                                                  separators=(",", ":")))
        self.rows += 1
        if len(self.parts) >= 500:
            self._flush()

    def end(self) -> int:
        self.parts.append("]}")
        self._flush()
        return self.rows

    def _flush(self) -> None:
        self.fh.write("".join(self.parts).encode("utf-8"))
        self.parts.clear()


def render(records: Iterable[ExportRecord], ctx: ExportContext) -> bytes:
    """Compact UTF-8 JSON (the C encoder; indenting is several times slower), non-ASCII kept as is, through
    Writer (core.exports.render)."""
    return render_with(Writer, records, ctx)
