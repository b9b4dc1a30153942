"""The facts the rules engine reads about one incident, and how to build them from JSON (core layer).

IncidentFacts is what services build from a stored incident and what `rules check` builds from a JSON file
(docs/incident-json.md). It carries no free text and no local references: the rules never need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import ValidationError
from core.taxonomy import Taxonomy, load_taxonomy

_HARM_ORDER = {
    "physical": ("none", "low", "moderate", "severe", "fatal"),
    "psychological": ("none", "low", "moderate", "severe"),
}


@dataclass(frozen=True)
class PersonFacts:
    role: str  # affected | alleged_perpetrator | witness
    type: str  # patient | staff | visitor | other | unknown
    age_years: int | None = None
    age_band: str | None = None  # an LFPSE age bracket code from the taxonomy
    sex: str | None = None
    detained: bool | None = None  # under the Mental Health Act
    capacity_concern: bool | None = None
    care_support_needs: bool | None = None
    police_wishes: str | None = None  # yes | no | undecided | unable_to_decide; None: not known
    linked_user: bool = False  # the person is a Lantern user (e.g. a staff member with an account)
    under_18: bool | None = None  # the quick answer when the age itself is not recorded
    could_become_pregnant: bool | None = None
    presumed_under_18: bool = False  # set by with_presumptions: a patient of unknown age on a CAMHS ward
    # Every yes/no fact above is three-valued: True (yes), False (no) or None (not known). A fact that is not
    # known must never remove a safeguarding action; only an explicit False can (docs/safeguarding-rules.md).

    def age_state(self, years: int, bands: dict[str, tuple[int, int | None]] | None = None,
                  presume: bool = True) -> bool | None:
        """Whether this person is under `years`: True, False, or None when it is not known.

        From age_years, else a decisive age band (`bands` maps a band code to its (min, max) years), else the
        quick under-18 answer (which settles 'under 18' and, when no, every lower age as well), else (with
        `presume`) the CAMHS presumption that a patient is under 18.
        """
        state = self._recorded_age_state(years, bands)
        if state is None and presume and self.presumed_under_18 and years >= 18:
            return True
        return state

    def _recorded_age_state(self, years: int, bands: dict[str, tuple[int, int | None]] | None) -> bool | None:
        if self.age_years is not None:
            return self.age_years < years
        low_high = (bands or {}).get(self.age_band or "")
        if low_high is not None:
            low, high = low_high
            if high is not None and high < years:
                return True
            if low >= years:
                return False
        if self.under_18 is False and years <= 18:
            return False
        if self.under_18 is True and years >= 18:
            return True
        return None


@dataclass(frozen=True)
class IncidentFacts:
    types: frozenset[str]
    occurred_at: datetime
    reported_at: datetime
    location: str = "unknown"
    people: tuple[PersonFacts, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    harm_physical: str = "none"  # the worst over affected people
    harm_psychological: str = "none"
    service_type: str | None = None  # the ward's service type, e.g. "camhs"; None when not known

    def __post_init__(self):
        for name in ("occurred_at", "reported_at"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise ValidationError({name: "must be a date and time with a time zone"})
        if self.reported_at.astimezone(UTC) < self.occurred_at.astimezone(UTC):
            raise ValidationError({"reported_at": "is before the time the incident happened"})
        if not self.types:
            raise ValidationError({"types": "choose at least one incident type"})


# Service types whose patients are under 18 unless an age says otherwise.
CHILD_SERVICE_TYPES = frozenset({"camhs"})


def with_presumptions(facts: IncidentFacts) -> IncidentFacts:
    """The facts the rules read: what was recorded, plus two presumptions that only ever add safeguarding.

    - A patient on a mental health ward has care and support needs unless someone answered no (Care Act 2014
      s42(1)(a): most inpatients meet it).
    - A patient on a children's ward (CAMHS) is under 18 unless an age, an age band or the under-18 answer
      says otherwise.
    """
    child_ward = facts.service_type in CHILD_SERVICE_TYPES
    people = tuple(_presumed(person, child_ward) for person in facts.people)
    return replace(facts, people=people) if people != facts.people else facts


def _presumed(person: PersonFacts, child_ward: bool) -> PersonFacts:
    if person.type != "patient":
        return person
    changes = {}
    if person.care_support_needs is None:
        changes["care_support_needs"] = True
    if child_ward and person.under_18 is None and person.age_years is None and person.age_band is None:
        changes["presumed_under_18"] = True
    return replace(person, **changes) if changes else person


def worst_harm(scale: str, levels: list[str | None]) -> str:
    """The worst of several harm levels on one scale ('physical' or 'psychological'); None counts as none."""
    order = _HARM_ORDER[scale]
    return max((level or "none" for level in levels), key=order.index, default="none")


# --- JSON ------------------------------------------------------------------------------------------

_TOP_KEYS = {"types", "occurred_at", "reported_at", "location", "shift", "people", "flags", "harm", "service_type"}
_PERSON_KEYS = {"role", "type", "ref", "age_years", "age_band", "sex", "detained", "capacity_concern",
                "care_support_needs", "police_wishes", "linked_user", "harm", "under_18", "could_become_pregnant"}
# A person's coded answers: (key, code list, whether it must be given).
_PERSON_CODES = (("role", "person_roles", True), ("type", "person_types", True), ("age_band", "age_bands", False),
                 ("sex", "sexes", False), ("police_wishes", "police_wishes", False))
_ANSWERS = ("detained", "capacity_concern", "care_support_needs", "under_18", "could_become_pregnant")


class _Errors:
    """Collects plain messages by field so one ValidationError can report them all."""

    def __init__(self):
        self.by_field: dict[str, str] = {}

    def add(self, name: str, message: str):
        self.by_field.setdefault(name, message)


# Years a date may name: a typo such as 9999 is refused rather than overflowing the deadline arithmetic.
_FIRST_YEAR, _LAST_YEAR = 1900, 2200
FUTURE_SLACK_MINUTES = 5  # a reported_at this far ahead of the clock is allowed (PCs' clocks drift)


def facts_from_json(obj: Any, taxonomy: Taxonomy | None = None, now: datetime | None = None) -> IncidentFacts:
    """Build IncidentFacts from the JSON shape in docs/incident-json.md; ValidationError on any problem.

    With `now`, a reported_at more than a few minutes after it is refused."""
    taxonomy = taxonomy or load_taxonomy()
    if not isinstance(obj, dict):
        raise ValidationError("The incident must be a JSON object, like the examples in docs/incident-json.md.")
    errors = _Errors()
    for key in sorted(set(obj) - _TOP_KEYS):
        errors.add(key, f"unknown field (allowed: {', '.join(sorted(_TOP_KEYS))})")

    types = _codes(obj.get("types"), "types", taxonomy, "incident_types", errors)
    occurred, reported = _times(obj, now, errors)
    location = obj.get("location", "unknown")
    service = obj.get("service_type")
    _check_places(obj, taxonomy, errors)
    flags = _flags(obj.get("flags", {}), taxonomy, errors)
    top_harm = _harm(obj.get("harm", {}), "harm", taxonomy, errors)
    people, harms = _people(obj.get("people", []), taxonomy, errors)
    harms.insert(0, top_harm)

    if errors.by_field:
        raise ValidationError(errors.by_field)
    return IncidentFacts(
        types=frozenset(types),
        occurred_at=occurred,
        reported_at=reported,
        location=location,
        people=tuple(people),
        flags=frozenset(flags),
        harm_physical=worst_harm("physical", [h.get("physical") for h in harms]),
        harm_psychological=worst_harm("psychological", [h.get("psychological") for h in harms]),
        service_type=service,
    )


def _times(obj: dict, now: datetime | None, errors: _Errors) -> tuple[datetime | None, datetime | None]:
    occurred = _time(obj.get("occurred_at"), "occurred_at", errors)
    reported = _time(obj.get("reported_at"), "reported_at", errors)
    if occurred and reported and reported.astimezone(UTC) < occurred.astimezone(UTC):
        errors.add("reported_at", "is before occurred_at; an incident cannot be reported before it happened")
    if reported and now and reported.astimezone(UTC) > now.astimezone(UTC) + timedelta(minutes=FUTURE_SLACK_MINUTES):
        errors.add("reported_at", "is in the future; give the time it was actually reported")
    return occurred, reported


# Where and on what ward: (field, code list, what it is, whether it may be left out).
_PLACES = (("location", "locations", "location", False), ("shift", "shifts", "shift", True),
           ("service_type", "service_types", "ward service type", True))


def _check_places(obj: dict, taxonomy: Taxonomy, errors: _Errors) -> None:
    for key, section, what, optional in _PLACES:
        value = obj.get(key, None if optional else "unknown")
        if optional and value is None:
            continue
        if not (isinstance(value, str) and taxonomy.has(section, value)):
            errors.add(key, f"{value!r} is not a known {what} (use one of: {', '.join(taxonomy.codes(section))})")


def _people(value, taxonomy: Taxonomy, errors: _Errors) -> tuple[list[PersonFacts], list[dict]]:
    """The people, and the harm of each affected one."""
    people, harms = [], []
    if not isinstance(value, list):
        errors.add("people", "must be a list of people")
        return people, harms
    for position, raw in enumerate(value):
        person, harm = _person(raw, f"people[{position}]", taxonomy, errors)
        if person:
            people.append(person)
            if person.role == "affected":
                harms.append(harm)
    return people, harms


def _codes(value, name: str, taxonomy: Taxonomy, section: str, errors: _Errors) -> list[str]:
    if not isinstance(value, list) or not value:
        errors.add(name, "give a list with at least one incident type code, e.g. [\"SS-SA\"]")
        return []
    for code in value:
        if not (isinstance(code, str) and taxonomy.has(section, code)):
            errors.add(name, f"{code!r} is not a known incident type code "
                             f"(use one of: {', '.join(taxonomy.codes(section))})")
    return [code for code in value if isinstance(code, str)]


def _time(value, name: str, errors: _Errors) -> datetime | None:
    if not isinstance(value, str):
        errors.add(name, "give a date and time like 2026-03-14T21:40:00+00:00")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors.add(name, f"{value!r} is not a date and time like 2026-03-14T21:40:00+00:00")
        return None
    if parsed.utcoffset() is None:
        errors.add(name, f"{value!r} has no time zone offset; add one, e.g. +00:00 in winter or +01:00 in summer")
        return None
    if not _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
        errors.add(name, f"the year {parsed.year} is not plausible (use a year from {_FIRST_YEAR} to {_LAST_YEAR})")
        return None
    return parsed


def _flags(value, taxonomy: Taxonomy, errors: _Errors) -> set[str]:
    if isinstance(value, list):
        value = {code: True for code in value if isinstance(code, str)} if all(
            isinstance(code, str) for code in value) else None
    if not isinstance(value, dict):
        errors.add("flags", "give an object like {\"physical_contact\": true}")
        return set()
    for code, on in value.items():
        if not taxonomy.has("context_flags", code):
            errors.add(f"flags.{code}", f"not a known flag (use: {', '.join(taxonomy.codes('context_flags'))})")
        elif not isinstance(on, bool):
            errors.add(f"flags.{code}", "must be true or false")
    return {code for code, on in value.items() if on is True and taxonomy.has("context_flags", code)}


def _harm(value, name: str, taxonomy: Taxonomy, errors: _Errors) -> dict[str, str]:
    if not isinstance(value, dict):
        errors.add(name, "give an object like {\"physical\": \"none\", \"psychological\": \"moderate\"}")
        return {}
    for key in sorted(set(value) - {"physical", "psychological"}):
        errors.add(f"{name}.{key}", "unknown field (allowed: physical, psychological)")
    for scale in ("physical", "psychological"):
        level = value.get(scale)
        if level is not None and not (isinstance(level, str) and taxonomy.has(f"harm_{scale}", level)):
            errors.add(f"{name}.{scale}", f"{level!r} is not a {scale} harm level "
                                          f"(use one of: {', '.join(taxonomy.codes(f'harm_{scale}'))})")
    return {scale: level for scale, level in value.items() if scale in ("physical", "psychological")}


def _check_person_codes(raw: dict, name: str, taxonomy: Taxonomy, errors: _Errors) -> None:
    for key in sorted(set(raw) - _PERSON_KEYS):
        errors.add(f"{name}.{key}", f"unknown field (allowed: {', '.join(sorted(_PERSON_KEYS))}); "
                                    "never put a name here")
    for key, section, required in _PERSON_CODES:
        value = raw.get(key)
        if (required or value is not None) and not (isinstance(value, str) and taxonomy.has(section, value)):
            errors.add(f"{name}.{key}", f"{value!r} is not allowed (use one of: {', '.join(taxonomy.codes(section))})")
    for key in (*_ANSWERS, "linked_user"):
        if raw.get(key) is not None and not isinstance(raw.get(key), bool):
            errors.add(f"{name}.{key}", "must be true, false, or null or left out for not known")


def _check_age(raw: dict, age, name: str, taxonomy: Taxonomy, errors: _Errors) -> None:
    whole = isinstance(age, int) and not isinstance(age, bool)
    if age is not None and not (whole and 0 <= age <= 120):
        errors.add(f"{name}.age_years", "must be a whole number of years from 0 to 120")
    elif age is not None and isinstance(raw.get("age_band"), str) and taxonomy.has("age_bands", raw["age_band"]):
        band = taxonomy.age_band(raw["age_band"])
        if age < band.min_years or (band.max_years is not None and age > band.max_years):
            errors.add(f"{name}.age_band", f"does not match age_years {age}")
    if whole and isinstance(raw.get("under_18"), bool) and (age < 18) != raw["under_18"]:
        errors.add(f"{name}.under_18", f"does not match age_years {age}")


def _person(raw, name: str, taxonomy: Taxonomy, errors: _Errors) -> tuple[PersonFacts | None, dict]:
    if not isinstance(raw, dict):
        errors.add(name, "each person must be an object with at least a role and a type")
        return None, {}
    before = len(errors.by_field)
    _check_person_codes(raw, name, taxonomy, errors)
    age = raw.get("age_years")
    _check_age(raw, age, name, taxonomy, errors)
    ref = raw.get("ref")
    if ref is not None and not isinstance(ref, str):
        errors.add(f"{name}.ref", "must be text (a local reference such as initials, never a full name)")
    harm = _harm(raw.get("harm", {}), f"{name}.harm", taxonomy, errors)
    if len(errors.by_field) > before:
        return None, {}
    person = PersonFacts(
        role=raw["role"],
        type=raw["type"],
        age_years=age,
        age_band=raw.get("age_band"),
        sex=raw.get("sex"),
        detained=raw.get("detained"),
        capacity_concern=raw.get("capacity_concern"),
        care_support_needs=raw.get("care_support_needs"),
        police_wishes=raw.get("police_wishes"),
        linked_user=bool(raw.get("linked_user", False)),
        under_18=raw.get("under_18"),
        could_become_pregnant=raw.get("could_become_pregnant"),
    )
    return person, harm
