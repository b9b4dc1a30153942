"""Checks on an incident draft, driven by the taxonomy's code lists (core layer; pure, no store).

The form shows these messages next to the fields as the nurse types; the services refuse with the same ones
(`ValidationError`). Which answers are allowed is read from resources/taxonomy.toml through the tables below
(field -> code list -> message), so a new code in the taxonomy needs no change here.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from core.clock import utcnow
from core.dto import IncidentDraft, PersonDraft
from core.privacy import KINDS as PID_KINDS
from core.privacy import find_pid
from core.taxonomy import load_taxonomy

MAX_TEXT = 20_000
MAX_LOCAL_REF = 40

# Draft fields whose answers come from a code list: (field, code list, message). A tuple field (types, flags)
# needs every value in the list; an empty field passes here (submitting asks for the ones it needs).
DRAFT_CODES = (
    ("types", "incident_types", "One of the chosen incident types is not in the list."),
    ("location", "locations", "Choose where it happened from the list."),
    ("shift", "shifts", "Choose a shift from the list."),
    ("flags", "context_flags", "One of the ticked details is not recognised."),
)

# A person's answers that come from a code list: (field, code list, problem). Role and type are always needed;
# the rest may be left empty. The age checks sit between the two tables, so a person's first problem is the
# one the form has always shown first.
PERSON_CODES = (
    ("role", "person_roles", "choose their role."),
    ("person_type", "person_types", "choose whether they are a patient, staff, visitor, other or unknown."),
    ("sex", "sexes", "choose their sex from the list."),
)
PERSON_CODES_AFTER_AGE = (
    ("age_band", "age_bands", "choose an age band from the list."),
    ("police_wishes", "police_wishes", "choose their wishes about the police from the list."),
    ("harm_physical", "harm_physical", "choose a physical harm level from the list."),
    ("harm_psychological", "harm_psychological", "choose a psychological harm level from the list."),
)
PERSON_REQUIRED = frozenset({"role", "person_type"})

UNSAVEABLE = ("contains a character that cannot be saved (often left by copying and pasting). Delete the last "
              "few characters you pasted and type them again.")


def validate_draft(draft: IncidentDraft, *, for_submit: bool, now: datetime | None = None) -> dict[str, str]:
    """Plain-English problems with a draft, keyed by field. Saving a draft only checks shape;
    submitting needs the fast-path minimum (at most 8 inputs)."""
    tax = load_taxonomy()
    errors = _code_errors(draft, tax)
    errors.update(_time_errors(draft, now))
    if len(draft.description) > MAX_TEXT or len(draft.immediate_actions) > MAX_TEXT:
        errors["description"] = f"Keep each text box under {MAX_TEXT:,} characters."
    for i, person in enumerate(draft.people, start=1):
        problem = person_problem(person, tax)
        if problem:
            errors[f"people.{i}"] = f"Person {i}: {problem}"
    errors.update(unsaveable_text(draft))
    if for_submit:
        for field, message in _missing_for_submit(draft):
            errors.setdefault(field, message)
    return errors


def _code_errors(draft: IncidentDraft, tax) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field, section, message in DRAFT_CODES:
        value = getattr(draft, field)
        values = value if isinstance(value, (tuple, list)) else (value,) if value else ()
        if any(not tax.has(section, v) for v in values):
            errors[field] = message
    return errors


def _time_errors(draft: IncidentDraft, now: datetime | None) -> dict[str, str]:
    when = draft.occurred_at
    if when is not None and (not isinstance(when, datetime) or when.tzinfo is None):
        return {"occurred_at": "The date and time are not valid."}
    if when is not None and when > (now or utcnow()):
        return {"occurred_at": "The incident time is in the future. Check the date and time."}
    if draft.occurred_precision not in ("exact", "approximate"):
        return {"occurred_at": "Say whether the time is exact or approximate."}
    return {}


def _missing_for_submit(draft: IncidentDraft) -> list[tuple[str, str]]:
    """What submitting needs that the draft lacks, as (field, message), in the order the form asks."""
    affected = [p for p in draft.people if p.role == "affected"]
    missing = [
        ("types", not draft.types, "Choose at least one type of incident."),
        ("occurred_at", draft.occurred_at is None, "Give the date and time it happened (approximate is fine)."),
        ("shift", draft.occurred_at is not None and draft.occurred_precision == "approximate" and not draft.shift,
         "For an approximate time, choose the shift it happened in."),
        ("location", not draft.location, "Choose where it happened (\"Unknown\" is fine)."),
        ("people", not affected, "Add the person affected (their type is enough for now)."),
        ("people.perpetrator", not any(p.role == "alleged_perpetrator" for p in draft.people),
         "Add the person alleged to have done it (\"Unknown\" is fine)."),
        ("harm", any(p.harm_physical is None or p.harm_psychological is None for p in affected),
         "Grade the physical and psychological harm for each person affected."),
        ("description", not draft.description.strip(), "Describe briefly what happened."),
    ]
    return [(field, message) for field, lacking, message in missing if lacking]


def person_problem(p: PersonDraft, tax) -> str:
    """The first problem with one person's answers, or "" when there is none."""
    return (_person_code_problem(p, tax, PERSON_CODES) or _age_problem(p)
            or _person_code_problem(p, tax, PERSON_CODES_AFTER_AGE) or _ref_problem(p.local_ref))


def _person_code_problem(p: PersonDraft, tax, table) -> str:
    for field, section, problem in table:
        value = getattr(p, field)
        if (value or field in PERSON_REQUIRED) and not tax.has(section, value):
            return problem
    return ""


def _age_problem(p: PersonDraft) -> str:
    if p.age_years is None:
        return ""
    if not (0 <= p.age_years <= 120):
        return "age must be between 0 and 120."
    if p.under_18 is not None and (p.age_years < 18) != p.under_18:
        return f"the age ({p.age_years}) and the answer to 'Under 18?' disagree. Correct one of them."
    return ""


def _ref_problem(local_ref: str) -> str:
    if len(local_ref) > MAX_LOCAL_REF:
        return "keep the reference under 40 characters (initials or a hospital number, never a name)."
    # A control character (a pasted tab, say) is never part of a reference, and the dashboard's summary of an
    # incident's people (core.db.queries.incidents.people_refs) separates them with two.
    if any(unicodedata.category(c) == "Cc" for c in local_ref):
        return "the reference contains a hidden control character (often a pasted tab). Type it again."
    found = find_pid(local_ref)
    if found:  # the same detector that screens free text and every export (issue 14)
        return (f"the reference looks like {PID_KINDS[found[0].kind]}. Use initials or a hospital number, "
                "never a name, NHS number, date of birth or contact details.")
    return ""


def unsaveable_text(draft: IncidentDraft) -> dict[str, str]:
    """Text boxes holding a lone surrogate (text no encoding can store), keyed by field."""
    found: dict[str, str] = {}
    for name, label in (("description", "The description"), ("immediate_actions", "Immediate actions")):
        if _unencodable(getattr(draft, name)):
            found[name] = f"{label} {UNSAVEABLE}"
    for i, person in enumerate(draft.people, start=1):
        if any(_unencodable(v) for v in vars(person).values() if isinstance(v, str)):
            found[f"people.{i}"] = f"Person {i}: a detail {UNSAVEABLE}"
    return found


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
