"""Shared export mapping: one submitted incident to the NRLS-dataset and LFPSE values every format uses (core layer).

Pure functions over plain data (IncidentDetail DTOs and the taxonomy); no database, no Qt.
Which values are confirmed national codes and which are labels only is set out in docs/exports.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from core.clock import local
from core.dto import ActionInfo, IncidentDetail, PersonDraft
from core.errors import LanternError
from core.privacy import KINDS as PID_KINDS
from core.privacy import find_pid
from core.taxonomy import PD09_LABELS, Taxonomy, derive_pd09, is_staff, pair_label

SCHEMA_VERSION = "1.0"
NRLS_NS = "urn:x-local:sexual-safety:nrls-export:1"
EXT_NS = "urn:x-local:sexual-safety:ext:1"
GENERATOR = "Lantern 0.1.0"

# Confirmed NRLS values (docs/exports.md, "Which codes are confirmed").
RM04_LRMS = (3, "LRMS")
IN04_ENGLAND = (1, "England")
# Label only: the NRLS code for a mental health care setting (RP02) was never published.
RP02_LOCAL = ("MHS", "Mental health service")
IN03_LVL1_LABEL = "Mental health inpatient ward"
IN05_LVL2_LABEL = "Sexual"  # label only; not confirmed as an NRLS level-2 value
IN05_PATIENT_TO_PATIENT = "Disruptive, aggressive behaviour (includes patient-to-patient)"
IN05_THIRD_PARTY = "Patient abuse (by staff / third party)"
IN05_OTHER = "Other"

# Ward service type -> (PD05 level 1 label, PD05 level 2 label, LFPSE v5 ResponsibleSpecialty code).
SPECIALTIES = {
    "adult_acute": ("Mental health", "Adult mental health", 3),
    "psychiatric_intensive_care": ("Mental health", "Psychiatric intensive care", 198),
    "forensic": ("Mental health", "Forensic psychiatry", 36),
    "older_adult": ("Mental health", "Old age psychiatry", 68),
    "camhs": ("Mental health", "Child and adolescent mental health", 14),
    "learning_disability": ("Mental health", "Learning disability", 52),
    "eating_disorders": ("Mental health", "Eating disorders", 129),
    "rehabilitation": ("Mental health", "Mental health recovery and rehabilitation", 145),
    "perinatal": ("Mental health", "Perinatal mental health", 192),
}
DEFAULT_SPECIALTY = ("Mental health", "", None)

# Rule ids (resources/rules.toml) whose actions set a governance flag, unless marked not applicable.
# A "not known" check (issue 12) sets the flag too until it is marked not applicable: a blank never hides a
# safeguarding referral.
SAFEGUARDING_RULES = frozenset({"adult-safeguarding-concern", "childrens-social-care", "lado-referral",
                                "adult-safeguarding-check", "childrens-social-care-check", "lado-referral-check",
                                # Issue 12 (D): an image of a child, grooming or exploitation of a child (children's
                                # social care), and trafficking (the local authority as First Responder).
                                "child-image-police-social-care", "child-exploitation-police-social-care",
                                "trafficking-first-responder"})
# Rules whose action is a report to the police (issue 12 D adds the two for children's images and grooming).
_POLICE_REPORTS = frozenset({"police-report-now", "child-image-police-social-care",
                             "child-exploitation-police-social-care"})
# A report to the police is itself notifiable (CQC (Registration) Regulations 2009 reg 18(2)(f)).
CQC_RULES = frozenset({"cqc-notification"}) | _POLICE_REPORTS
CANDOUR_RULES = frozenset({"duty-of-candour"})
# Actions that, once done, mean the police were told ("police-discuss" is kept for records made before
# issue 12 replaced it with police-report-now and police-decision-record).
POLICE_RULES = frozenset({"police-inform-staff-alleged", "police-child-under-16", "police-discuss"}) | _POLICE_REPORTS

# Who is said to have done it, most serious first, for x:perpetratorType and the IN05 level-1 rule.
PERPETRATOR_PRIORITY = ("staff", "visitor", "other", "patient", "unknown")
# Types whose definition says who did it, for when nobody is recorded as the alleged perpetrator (issue 12 D):
# domestic abuse by a visiting partner or family member was done by a visitor.
TYPE_PERPETRATORS = {"SS-DA-VISIT": "visitor"}
LFPSE_AGE_DAYS_PER_YEAR = 372  # LFPSE encodes whole years as n x 372 days

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class ExportError(LanternError):
    """An export could not be built or written; the message is plain English and holds no patient text."""


@dataclass(frozen=True)
class ExportContext:
    """What a format needs besides the incidents: who we are, when, which period, and the privacy choice."""

    ods_code: str
    generated_at: datetime
    period_start: date | None = None
    period_end: date | None = None
    ward_service_types: dict[int, str] = field(default_factory=dict)
    include_free_text: bool = True
    generator: str = GENERATOR


@dataclass(frozen=True)
class Coded:
    """A value with an optional code and a label that is always present."""

    code: int | str | None
    label: str


@dataclass(frozen=True)
class PatientRecord:
    """One affected patient, pseudonymous: no reference, name or date of birth."""

    sequence: int
    age_years: int | None
    age_bracket: Coded | None  # LFPSE AgeBracket
    sex: Coded | None  # LFPSE Gender
    detained: bool | None
    pd09: Coded | None
    physical: Coded | None  # LFPSE PhysicalHarm (OT001)
    psychological: Coded | None  # LFPSE PsychologicalHarm (OT002)


@dataclass(frozen=True)
class PersonRecord:
    """Anyone involved, by role and type only."""

    role: str
    role_label: str
    person_type: str
    type_label: str


@dataclass(frozen=True)
class ExportRecord:
    """Everything the NRLS XML, the CSV and the LFPSE bundle say about one incident."""

    reference: str
    ods_code: str
    ward_name: str
    occurred_date: str  # IN01, YYYY-MM-DD, UK local date
    occurred_time: str | None  # IN02, HH:MM, only when the time is exact
    occurred_iso: str  # UK local date-time with offset when exact, else the date
    precision: str
    shift: Coded | None
    location: Coded  # local code and label
    location_text: str  # IN03_TEXT
    in05_lvl1: str
    types: tuple[Coded, ...]
    flags: tuple[Coded, ...]
    description: str | None  # None when free text is withheld
    immediate_actions: str | None
    pd09: Coded | None
    physical: Coded | None  # worst over affected people
    psychological: Coded | None
    patients: tuple[PatientRecord, ...]
    people: tuple[PersonRecord, ...]
    specialty: tuple[str, str, int | None]
    perpetrator_type: str
    pair: str | None
    pair_label: str
    patient_safety_incident: bool
    safeguarding_referral: bool
    police_informed: bool | None
    cqc_notifiable: bool
    duty_of_candour: bool
    detained_under_mha: bool


# ----- small helpers ---------------------------------------------------------------------------------

def clean_text(text: str | None) -> str:
    """Text safe to put in XML 1.0: characters XML cannot carry become U+FFFD; newlines are normalised."""
    if not text:
        return ""
    return _XML_ILLEGAL.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def age_days(years: int) -> int:
    """LFPSE AgeAtTimeOfIncidentDays for a whole number of years (section 5.5: years x 372)."""
    return years * LFPSE_AGE_DAYS_PER_YEAR


_MEMO: dict[tuple, tuple[Taxonomy, Coded | None]] = {}


def _memo(tax: Taxonomy, key: tuple, make) -> Coded | None:
    """Coded values repeat from record to record: make each once per taxonomy. (A Taxonomy hashes slowly,
    so the memo is keyed by its id and checks the object itself.)"""
    hit = _MEMO.get((id(tax), *key))
    if hit is not None and hit[0] is tax:
        return hit[1]
    value = make()
    _MEMO[(id(tax), *key)] = (tax, value)
    return value


def age_bracket_for(person: PersonDraft, tax: Taxonomy) -> Coded | None:
    """The LFPSE age bracket: the recorded band, else the band that holds the age in years (1 year and over)."""
    return _memo(tax, ("age", person.age_band, person.age_years), lambda: _age_bracket(person, tax))


def _age_bracket(person: PersonDraft, tax: Taxonomy) -> Coded | None:
    if person.age_band and tax.has("age_bands", person.age_band):
        band = tax.age_band(person.age_band)
        return Coded(band.lfpse, band.label)
    if person.age_years is None or person.age_years < 1:
        return None
    for band in tax.age_bands:
        if band.min_years <= person.age_years and (band.max_years is None or person.age_years <= band.max_years):
            if band.min_years >= 1:
                return Coded(band.lfpse, band.label)
    return None


def harm_coded(tax: Taxonomy, scale: str, level: str | None) -> Coded | None:
    """LFPSE harm code and label for a level code ('none', 'low' ...) on the 'physical' or 'psychological' scale."""
    if not level:
        return None
    return _memo(tax, ("harm", scale, level), lambda: _harm(tax, scale, level))


def _harm(tax: Taxonomy, scale: str, level: str) -> Coded | None:
    if not tax.has(f"harm_{scale}", level):
        return None
    entry = tax.harm_level(scale, level)
    return Coded(entry.lfpse, entry.label)


_PD09_CODED = {code: Coded(code, label) for code, label in PD09_LABELS.items()}


def pd09_coded(pd09: int | None) -> Coded | None:
    return _PD09_CODED.get(pd09)


def export_person_type(person_type: str) -> str:
    """The dataset's person type: bank or agency staff, contractors and volunteers are staff (the schema's
    PersonType and LFPSE's 'healthcare staff'); the label still says which."""
    return "staff" if is_staff(person_type) else person_type


def perpetrator_type(people, types=()) -> str:
    """The most serious kind of alleged perpetrator recorded; when none is recorded, the kind a type names
    (TYPE_PERPETRATORS), else 'unknown'."""
    kinds = {export_person_type(p.person_type) for p in people if p.role == "alleged_perpetrator"}
    for kind in PERPETRATOR_PRIORITY:
        if kind in kinds:
            return kind
    implied = {TYPE_PERPETRATORS[code] for code in types if code in TYPE_PERPETRATORS}
    return next((kind for kind in PERPETRATOR_PRIORITY if kind in implied), "unknown")


def in05_level1(perpetrator: str) -> str:
    """Our section 5.3 rule: another patient -> disruptive/aggressive; staff or a third party -> patient abuse."""
    if perpetrator == "patient":
        return IN05_PATIENT_TO_PATIENT
    if perpetrator in ("staff", "visitor", "other"):
        return IN05_THIRD_PARTY
    return IN05_OTHER


def action_applies(actions: tuple[ActionInfo, ...], rule_ids: frozenset[str]) -> bool:
    """True when the rules raised one of these actions and nobody marked it not applicable."""
    return any(a.rule_id in rule_ids and a.status != "not_applicable" for a in actions)


def police_informed(actions: tuple[ActionInfo, ...]) -> bool | None:
    """True when a police action is done; None (not known) otherwise: Lantern does not record a 'no'."""
    return True if any(a.rule_id in POLICE_RULES and a.status == "done" for a in actions) else None


def local_date_time(moment: datetime | None) -> tuple[str, str]:
    if moment is None:
        return "", ""
    at = local(moment)
    return at.date().isoformat(), at.strftime("%H:%M")


def identifier_key(incident_id: str, field: str, start: int, end: int, kind: str) -> str:
    """A stable name for one identifier-like hit, so the user's choice to keep it can be passed back."""
    return f"{incident_id}/{field}/{start}-{end}/{kind}"


MAX_FREE_TEXT = 20_000  # the form's limit per text box, and the XSD's FreeText maxLength
SHORT_MARKER = "[removed]"


def redact_text(text: str, today: date | None = None, *, incident_id: str = "", field: str = "",
                keep: frozenset[str] = frozenset(), limit: int = MAX_FREE_TEXT) -> tuple[str, int, int]:
    """Replace what looks like an identifier (core.privacy, the form's guard) with '[removed: ...]', except
    the hits whose identifier_key the user chose to keep. Returns (text, found, kept).

    Redaction never makes a text longer than `limit` (or than it was): when the full markers would, each
    hit becomes '[removed]', or as many '*' as it had characters, so the marker replaces and never grows."""
    text = text or ""
    findings = find_pid(text, today=today)
    if not findings:
        return text, 0, 0
    removed = [f for f in findings if not (keep and identifier_key(incident_id, field, f.start, f.end, f.kind) in keep)]
    out = _replace(text, removed, lambda f: f"[removed: {PID_KINDS[f.kind]}]")
    if len(out) > max(limit, 0) and len(out) > len(text):
        out = _replace(text, removed, lambda f: SHORT_MARKER if f.end - f.start >= len(SHORT_MARKER)
                       else "*" * (f.end - f.start))
    return out, len(findings), len(findings) - len(removed)


def _replace(text: str, findings, marker) -> str:
    parts, at = [], 0
    for f in findings:
        parts += [text[at:f.start], marker(f)]
        at = f.end
    parts.append(text[at:])
    return "".join(parts)


def free_text_fields(detail: IncidentDetail) -> list[tuple[str, str, str]]:
    """(key field, display field, text) for every free text an export carries: description, immediate
    actions, each action's note (keyed by action id, shown as 'action_note') and each person's local
    reference (keyed by position, shown as 'local_ref'): a local reference is an identifier too."""
    fields = [("description", "description", detail.draft.description),
              ("immediate_actions", "immediate_actions", detail.draft.immediate_actions)]
    fields += [(f"action_note:{a.action_id}", "action_note", a.note) for a in detail.actions if a.note]
    fields += [(f"local_ref:{i}", "local_ref", p.local_ref) for i, p in enumerate(detail.draft.people) if p.local_ref]
    return fields


def redact_detail(detail: IncidentDetail, today: date | None = None,
                  keep: frozenset[str] = frozenset()) -> tuple[IncidentDetail, int, int]:
    """A copy of an incident with identifier-like text removed from the description, the immediate
    actions, the action notes and the people's local references, except the hits in `keep`; also how
    many were found and kept."""
    totals = [0, 0]

    def one(field: str, text: str) -> str:
        out, n, k = redact_text(text, today, incident_id=detail.incident_id, field=field, keep=keep)
        totals[0] += n
        totals[1] += k
        return out

    description = one("description", detail.draft.description)
    immediate = one("immediate_actions", detail.draft.immediate_actions)
    actions = tuple(replace(a, note=one(f"action_note:{a.action_id}", a.note)) if a.note else a
                    for a in detail.actions)
    people = tuple(replace(p, local_ref=one(f"local_ref:{i}", p.local_ref)) if p.local_ref else p
                   for i, p in enumerate(detail.draft.people))
    found, kept = totals
    if found == kept:
        return detail, found, kept
    draft = replace(detail.draft, description=description, immediate_actions=immediate, people=people)
    return replace(detail, draft=draft, actions=actions), found, kept


# ----- the record ----------------------------------------------------------------------------------------

def to_record(detail: IncidentDetail, ctx: ExportContext, tax: Taxonomy) -> ExportRecord:
    """Map one submitted incident to the values every national-dataset format writes."""
    draft = detail.draft
    if detail.status == "draft":
        raise ExportError(f"{detail.reference} is a draft. Drafts are never exported.")
    occurred_date, occurred_time, occurred_iso = _when_fields(draft)
    location = _label_coded(tax, "locations", draft.location or "unknown")
    perp = perpetrator_type(draft.people, draft.types)
    affected = [p for p in draft.people if p.role == "affected" and p.person_type == "patient"]
    patients = tuple(_patient(seq, p, tax) for seq, p in enumerate(affected, start=1))
    free = ctx.include_free_text
    return ExportRecord(
        reference=detail.reference,
        ods_code=ctx.ods_code,
        ward_name=clean_text(detail.ward_name),
        occurred_date=occurred_date,
        occurred_time=occurred_time,
        occurred_iso=occurred_iso,
        precision=draft.occurred_precision,
        shift=_label_coded(tax, "shifts", draft.shift) if draft.shift else None,
        location=location,
        location_text=clean_text(f"{detail.ward_name} - {location.label}")[:255],
        in05_lvl1=in05_level1(perp),
        types=tuple(_memo(tax, ("type", code), lambda code=code: Coded(code, tax.type_label(code)))
                    for code in draft.types),
        flags=tuple(_label_coded(tax, "context_flags", code) for code in draft.flags),
        description=clean_text(draft.description) if free else None,
        immediate_actions=clean_text(draft.immediate_actions) if free else None,
        pd09=pd09_coded(detail.pd09),
        physical=harm_coded(tax, "physical", detail.harm_physical),
        psychological=harm_coded(tax, "psychological", detail.harm_psychological),
        patients=patients,
        people=tuple(_person_record(p, tax) for p in draft.people),
        specialty=SPECIALTIES.get(ctx.ward_service_types.get(detail.ward_id, ""), DEFAULT_SPECIALTY),
        perpetrator_type=perp,
        pair=detail.pair,
        pair_label=pair_label(detail.pair) if detail.pair else "",
        patient_safety_incident=bool(patients),
        safeguarding_referral=action_applies(detail.actions, SAFEGUARDING_RULES),
        police_informed=police_informed(detail.actions),
        cqc_notifiable=action_applies(detail.actions, CQC_RULES),
        duty_of_candour=action_applies(detail.actions, CANDOUR_RULES),
        detained_under_mha=any(p.detained for p in affected),
    )


def _when_fields(draft) -> tuple[str, str | None, str]:
    """(IN01 date, IN02 time only when exact, the ISO form: date-time with offset when exact, else the date),
    all in UK local time."""
    if draft.occurred_at is None:
        return "", None, ""
    at = local(draft.occurred_at)
    day = at.date().isoformat()
    if draft.occurred_precision != "exact":
        return day, None, day
    return day, f"{at.hour:02d}:{at.minute:02d}", at.isoformat(timespec="seconds")


def _person_record(p: PersonDraft, tax: Taxonomy) -> PersonRecord:
    return _memo(tax, ("person", p.role, p.person_type), lambda: PersonRecord(
        p.role, tax.label("person_roles", p.role), export_person_type(p.person_type),
        tax.label("person_types", p.person_type)))


def _label_coded(tax: Taxonomy, section: str, code: str) -> Coded:
    """Our own code with its taxonomy label."""
    return _memo(tax, (section, code), lambda: Coded(code, tax.label(section, code)))


def _sex(tax: Taxonomy, code: str) -> Coded | None:
    if not tax.has("sexes", code):
        return None
    entry = tax.entry("sexes", code)
    return Coded(entry.lfpse, entry.label)


def _patient(sequence: int, p: PersonDraft, tax: Taxonomy) -> PatientRecord:
    sex = _memo(tax, ("sex", p.sex), lambda: _sex(tax, p.sex)) if p.sex else None
    pd09 = None
    if p.harm_physical and p.harm_psychological:
        pd09 = pd09_coded(derive_pd09(p.harm_physical, p.harm_psychological))
    return PatientRecord(
        sequence=sequence, age_years=p.age_years, age_bracket=age_bracket_for(p, tax), sex=sex,
        detained=p.detained, pd09=pd09, physical=harm_coded(tax, "physical", p.harm_physical),
        psychological=harm_coded(tax, "psychological", p.harm_psychological))


def bool_text(value: bool | None) -> str:
    """'true', 'false', or '' for not known (XML schema boolean spelling)."""
    return "" if value is None else ("true" if value else "false")
