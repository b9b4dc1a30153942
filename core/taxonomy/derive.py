"""Values derived from a recorded incident: the pair, the NRLS degree of harm, the grading check (core layer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The assault-class codes in the shipped taxonomy (category "assault"). A test keeps the two in step.
ASSAULT_CODES = frozenset({"SS-RAPE", "SS-APEN", "SS-SA", "SS-SA-MD", "SS-DFSA"})
# The types whose grading a ward manager confirms when nobody is above low harm: the assaults and staff sexual
# misconduct (the harm-grading-confirm rule in resources/rules.toml uses the same list; a test keeps them in step).
HARM_CHECK_CODES = ASSAULT_CODES | {"SS-STAFF"}

# NRLS degree of harm (PD09): 1 no harm, 2 low, 3 moderate, 4 severe, 5 death. LFPSE has no fatal
# psychological level; NHS England lines the two scales up level for level (domain.md section d).
PD09_LABELS = {1: "No harm", 2: "Low harm", 3: "Moderate harm", 4: "Severe harm", 5: "Death"}
_PHYSICAL_PD09 = {"none": 1, "low": 2, "moderate": 3, "severe": 4, "fatal": 5}
_PSYCHOLOGICAL_PD09 = {"none": 1, "low": 2, "moderate": 3, "severe": 4}
_LOW_HARM = frozenset({"none", "low"})

PERSON_TYPE_ORDER = ("patient", "staff", "bank_or_agency", "contractor", "volunteer", "visitor", "other", "unknown")
MIXED_PAIR = "mixed"

# Person types that count as staff: employed, bank or agency, contractors and volunteers. Any of them as
# alleged perpetrator restricts the record. A test keeps this in step with the taxonomy's person types.
STAFF_PERSON_TYPES = frozenset({"staff", "bank_or_agency", "contractor", "volunteer"})
STAFF_ALLEGATION_TYPE = "SS-STAFF"


def _get(person: Any, name: str):
    return person.get(name) if isinstance(person, dict) else getattr(person, name, None)


def is_staff(person_type: str | None) -> bool:
    return person_type in STAFF_PERSON_TYPES


def is_restricted(types: Iterable[str], people: Iterable[Any]) -> bool:
    """The one restriction rule: an incident is restricted when any of its types is SS-STAFF (sexual misconduct
    by staff) or any alleged perpetrator is staff of any kind. `people` as for derive_pair. The services store
    the answer on the incident whenever it is written; every read (lists and single records) tests that column."""
    if STAFF_ALLEGATION_TYPE in set(types):
        return True
    return any(_get(p, "role") == "alleged_perpetrator" and is_staff(_get(p, "type") or _get(p, "person_type"))
               for p in people)


def derive_pair(people: Iterable[Any]) -> str:
    """Who did what to whom, as '<perpetrator type>_on_<affected type>', e.g. 'patient_on_staff'.

    `people` are PersonFacts, or any objects or dicts with `role` and `type` (or `person_type`). The rule:
    - take the distinct person types of the alleged perpetrators, and of the affected people;
    - a side with nobody recorded on it counts as 'unknown' (so 'unknown_on_patient' when the perpetrator
      is not recorded);
    - if either side has more than one distinct type, the pair is 'mixed';
    - otherwise it is '<that perpetrator type>_on_<that affected type>'. Witnesses never count.
    """
    perpetrators: set[str] = set()
    affected: set[str] = set()
    for person in people:
        role = _get(person, "role")
        kind = _get(person, "type") or _get(person, "person_type") or "unknown"
        if role == "alleged_perpetrator":
            perpetrators.add(kind)
        elif role == "affected":
            affected.add(kind)
    perpetrators = perpetrators or {"unknown"}
    affected = affected or {"unknown"}
    if len(perpetrators) > 1 or len(affected) > 1:
        return MIXED_PAIR
    return f"{perpetrators.pop()}_on_{affected.pop()}"


def all_pairs() -> tuple[str, ...]:
    """Every value derive_pair can return, in a stable order for reports and filters."""
    pairs = tuple(f"{p}_on_{a}" for p in PERSON_TYPE_ORDER for a in PERSON_TYPE_ORDER)
    return (*pairs, MIXED_PAIR)


def pair_label(pair: str) -> str:
    """'patient_on_staff' -> 'Patient on staff'."""
    if pair == MIXED_PAIR:
        return "Mixed (several kinds of people)"
    return pair.replace("_on_", " on ").replace("_", " ").capitalize()


def derive_pd09(physical: str, psychological: str) -> int:
    """The NRLS degree of harm (1 no harm ... 5 death): the worse of the physical and psychological levels.

    Raises ValueError for a level that is not on the LFPSE scale (including None: an ungraded person has no
    PD09, and guessing 'no harm' is what CQC warned against).
    """
    if physical not in _PHYSICAL_PD09:
        raise ValueError(f"unknown physical harm level {physical!r}")
    if psychological not in _PSYCHOLOGICAL_PD09:
        raise ValueError(f"unknown psychological harm level {psychological!r}")
    return max(_PHYSICAL_PD09[physical], _PSYCHOLOGICAL_PD09[psychological])


def needs_harm_confirmation(
    types: Iterable[str],
    harms: Iterable[tuple[str | None, str | None]],
    flags: Iterable[str] = (),
    assault_codes: frozenset[str] = HARM_CHECK_CODES,
) -> bool:
    """True when an assault-class type or staff sexual misconduct is coded (or penetration alleged) yet no affected person is graded
    above low harm, so a ward manager must confirm the grading (CQC 2018 found 97% graded no or low harm).

    `harms` holds one (physical, psychological) pair per affected person. An ungraded level (None) counts as
    not above low, so an assault with no grading at all also needs confirmation.
    """
    assault_like = bool(set(types) & assault_codes) or "penetration_alleged" in set(flags)
    if not assault_like:
        return False
    return all((physical or "none") in _LOW_HARM and (psychological or "none") in _LOW_HARM
               for physical, psychological in harms)
