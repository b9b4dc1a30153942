"""Synthetic incident generator (core layer). Never real people: references are generated codes.

The mix follows CQC's review "Sexual safety on mental health wards" (September 2018) of 1,120 sexual
incidents reported from 54 trusts in April to June 2017 (see the design notes, domain.md section (c)):
nudity or exposure 298, alleged sexual assault 273, verbal abuse using sexual words 242, alleged rape 29,
and the remaining 278 in the other categories (about 184 sexual harassment without words or touching).
5% were carried out by staff (some against other staff); of those affected about two-thirds were patients,
a third staff and a few visitors; 97% were graded no or low harm.

Every row of MIX is a number of CQC's 1,120 incidents; `plan` gives each row its share of any count
exactly (1,120 reproduces the table), so a demo store's `report summary` matches CQC per category.
Only types that involve touching carry the `physical_contact` flag, so words, exposure, looks and
messages never get forensic actions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.dto import IncidentDraft, PersonDraft


@dataclass(frozen=True)
class Kind:
    """One row of the mix: how many of CQC's 1,120 incidents, their types, who did it and to whom."""

    weight: int
    types: tuple[str, ...]
    perpetrator: str = "patient"  # person type of the alleged perpetrator
    affected: str = "any"  # "any" draws from AFFECTED_ANY; otherwise this person type


# Staff perpetrators: 56 of 1,120 (5%), 16 of them against other staff. A staff member's sexual touching of a
# patient is also coded SS-STAFF (Sexual Offences Act 2003 ss38-42); staff-on-staff incidents are not.
MIX = (
    Kind(200, ("SS-EXP-S",)),
    Kind(98, ("SS-NUD-NS",)),
    Kind(250, ("SS-SA",)),
    Kind(10, ("SS-SA", "SS-STAFF"), "staff", "patient"),
    Kind(3, ("SS-SA",), "staff", "staff"),
    Kind(10, ("SS-APEN",), affected="patient"),
    Kind(221, ("SS-HAR-V",)),
    Kind(13, ("SS-HAR-V",), "staff", "patient"),
    Kind(8, ("SS-HAR-V",), "staff", "staff"),
    Kind(28, ("SS-RAPE",), affected="patient"),
    Kind(1, ("SS-RAPE", "SS-STAFF"), "staff", "patient"),
    Kind(173, ("SS-HAR-NV",)),
    Kind(6, ("SS-HAR-NV",), "staff", "patient"),
    Kind(5, ("SS-HAR-NV",), "staff", "staff"),
    Kind(14, ("SS-ONLINE",)),
    Kind(6, ("SS-ONLINE",), "staff", "patient"),
    Kind(16, ("SS-VOY",)),
    Kind(2, ("SS-VOY",), "staff", "patient"),
    Kind(20, ("SS-ACT-CONS",), affected="patient"),
    Kind(8, ("SS-SA-MD",), affected="patient"),
    Kind(12, ("SS-DISCL-HIST",), "other", "patient"),
    Kind(3, ("SS-EXPL",), affected="patient"),
    Kind(3, ("SS-EXPL",), "visitor", "patient"),
    Kind(2, ("SS-EXPL",), "staff", "patient"),
    Kind(8, ("SS-OTHER",)),
)

CONTACT_TYPES = frozenset({"SS-SA", "SS-APEN", "SS-RAPE", "SS-SA-MD", "SS-ACT-CONS"})  # someone was touched
PENETRATION_TYPES = frozenset({"SS-RAPE", "SS-APEN"})
# Weights for "any" rows, so that overall about 65% of those affected are patients, 32% staff, 3% visitors.
AFFECTED_ANY = (("patient", 61), ("staff", 36), ("visitor", 3))
# Harm by kind of incident: (chance of moderate or worse, (physical, psychological) levels if not, if so).
# Overall about 97% no or low harm, as reporting trusts graded it; touching sometimes leaves low physical harm.
HARM = {
    "non_contact": (0.01, ((("none", 1),), (("none", 45), ("low", 55))),
                    ((("none", 1),), (("moderate", 1),))),
    "contact": (0.03, ((("none", 70), ("low", 30)), (("none", 20), ("low", 80))),
                ((("low", 2), ("moderate", 1)), (("moderate", 3), ("severe", 1)))),
    "penetration": (0.4, ((("none", 40), ("low", 60)), (("low", 1),)),
                    ((("low", 4), ("moderate", 5), ("severe", 1)), (("moderate", 3), ("severe", 1)))),
}
EXTRA_FLAGS = (("repeat_incident", 0.12, False), ("mixed_sex_breach", 0.03, False), ("weapon_or_violence", 0.05, True))
LOCATIONS = [("lounge", 20), ("corridor", 15), ("bedroom", 14), ("other_patient_bedroom", 8),
             ("bathroom_toilet", 9), ("dining_room", 7), ("garden", 8), ("seclusion_extra_care", 3),
             ("therapy_room", 3), ("visiting_room", 3), ("elsewhere_on_site", 4), ("on_leave", 2), ("unknown", 2)]
SHIFTS = {range(7, 8): "morning_handover", range(8, 19): "day", range(19, 20): "evening_handover"}
DESCRIPTIONS = [
    "{who} was approached in the {loc} and {what}. Staff intervened and separated them.",
    "{who} told the nurse in charge shortly after it happened in the {loc}: {what}.",
    "Seen by a member of staff in the {loc}: {what}. Both people were moved to different areas.",
]
TOLD_LATER = {"SS-DISCL-HIST", "SS-ONLINE"}  # nobody was there to separate: the person told staff
TOLD = "{who} told the nurse in charge about it: {what}."
WHAT = {
    "SS-EXP-S": "the other person exposed themselves", "SS-NUD-NS": "a patient was undressed in a shared area",
    "SS-SA": "the other person touched them sexually without consent",
    "SS-HAR-V": "sexual remarks were made repeatedly", "SS-HAR-NV": "unwanted sexual gestures were made",
    "SS-RAPE": "an allegation of rape was made", "SS-APEN": "an allegation of assault by penetration was made",
    "SS-VOY": "someone watched them in a private space", "SS-ONLINE": "sexual messages were sent by phone",
    "SS-ACT-CONS": "sexual activity was seen where capacity to consent was unclear",
    "SS-DISCL-HIST": "a past sexual assault was disclosed", "SS-EXPL": "a concern about exploitation was raised",
    "SS-SA-MD": "a touch of uncertain intent was reported", "SS-OTHER": "a sexual-safety concern was raised",
}
BLANK_ANSWER = 0.05  # share of yes / no answers about patients left "not known"
REF_PREFIX = {"patient": "PT-", "staff": "ST-", "visitor": "VS-", "other": "OT-"}
WHO = {"patient": "A patient", "staff": "A member of staff", "visitor": "A visitor"}


def plan(rng: random.Random, count: int) -> list[Kind]:
    """`count` kinds in random order, each MIX row given its share (exactly the table at 1,120)."""
    counts = quotas(rng, [k.weight for k in MIX], count)
    kinds = [kind for kind, n in zip(MIX, counts, strict=True) for _ in range(n)]
    rng.shuffle(kinds)
    return kinds


def quotas(rng: random.Random, weights: list[int], count: int) -> list[int]:
    """Split `count` in proportion to `weights`: whole shares first, then the places left over go to rows
    drawn by their fractional share (weighted sampling without replacement), so small counts still vary."""
    total = sum(weights)
    exact = [w * count / total for w in weights]
    counts = [int(x) for x in exact]
    keys = [rng.random() ** (1 / (x - n)) if x > n else -1.0 for x, n in zip(exact, counts, strict=True)]
    for i in sorted(range(len(weights)), key=keys.__getitem__, reverse=True)[:count - sum(counts)]:
        counts[i] += 1
    return counts


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


def _shift(moment: datetime) -> str:
    for hours, shift in SHIFTS.items():
        if moment.hour in hours:
            return shift
    return "night"


def _ref(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.randrange(1000, 9999)}"


def contact_flags(types) -> tuple[str, ...]:
    """The contact flags a set of types implies: touching, and penetration where it is alleged."""
    return (("physical_contact",) if CONTACT_TYPES & set(types) else ()) + (
        ("penetration_alleged",) if PENETRATION_TYPES & set(types) else ())


def _harm(rng: random.Random, types) -> tuple[str, str]:
    profile = ("penetration" if PENETRATION_TYPES & set(types) else
               "contact" if CONTACT_TYPES & set(types) else "non_contact")
    chance, usual, serious = HARM[profile]
    physical, psychological = serious if rng.random() < chance else usual
    return _pick(rng, physical), _pick(rng, psychological)


def _age(rng: random.Random, person_type: str, children: bool) -> int:
    if person_type == "patient" and children:  # a CAMHS ward: young people under 18
        return rng.randrange(13, 18)
    return rng.randrange(18, 75)


def _answer(rng: random.Random, patient: bool, chance: float) -> bool | None:
    """A yes / no answer about a patient, left blank ("not known") on a few quick reports; staff and visitors
    are answered no. A blank shows the "Confirm whether ..." check the rules give instead."""
    if not patient:
        return False
    return None if rng.random() < BLANK_ANSWER else rng.random() < chance


class _People:
    """Makes the people of one incident; patient references come from the ward's pool, so some repeat."""

    def __init__(self, rng: random.Random, pool: list[str] | None, children: bool):
        self.rng, self.pool, self.children = rng, pool, children

    def ref(self, person_type: str) -> str:
        if person_type == "patient" and self.pool and self.rng.random() < 0.3:
            return self.rng.choice(self.pool)
        ref = _ref(self.rng, REF_PREFIX.get(person_type, "OT-"))
        if person_type == "patient" and self.pool is not None:
            self.pool.append(ref)
        return ref

    def affected(self, person_type: str, types) -> PersonDraft:
        rng, patient = self.rng, person_type == "patient"
        physical, psychological = _harm(rng, types)
        return PersonDraft(
            role="affected", person_type=person_type, local_ref=self.ref(person_type),
            sex=_pick(rng, [("female", 55), ("male", 43), ("unknown", 2)]),
            age_years=_age(rng, person_type, self.children), detained=_answer(rng, patient, 0.7),
            capacity_concern=_answer(rng, patient, 0.15), care_support_needs=_answer(rng, patient, 0.6),
            police_wishes=_pick(rng, [("yes", 2), ("no", 4), ("undecided", 3), ("unable_to_decide", 1)]),
            harm_physical=physical, harm_psychological=psychological)

    def perpetrator(self, person_type: str) -> PersonDraft:
        rng, patient = self.rng, person_type == "patient"
        return PersonDraft(
            role="alleged_perpetrator", person_type=person_type, local_ref=self.ref(person_type),
            sex=_pick(rng, [("male", 75), ("female", 23), ("unknown", 2)]),
            age_years=_age(rng, person_type, self.children), detained=_answer(rng, patient, 0.7),
            capacity_concern=_answer(rng, patient, 0.2), care_support_needs=_answer(rng, patient, 0.6))


def synthetic_incident(rng: random.Random, ward_id: int, occurred_at: datetime, pool: list[str] | None = None,
                       *, kind: Kind | None = None, children: bool = False) -> IncidentDraft:
    """One realistic, entirely fictional incident of `kind` (drawn from MIX if not given). `pool` lets some
    patient references repeat; `children` makes the ward's patients under 18 (a CAMHS ward)."""
    kind = kind or rng.choices(MIX, weights=[k.weight for k in MIX])[0]
    affected_type = _pick(rng, AFFECTED_ANY) if kind.affected == "any" else kind.affected
    make = _People(rng, pool, children)
    people = [make.affected(affected_type, kind.types), make.perpetrator(kind.perpetrator)]
    if rng.random() < 0.25:
        people.append(PersonDraft(role="witness", person_type="staff", local_ref=_ref(rng, "ST-")))
    location = "online_phone" if "SS-ONLINE" in kind.types else _pick(rng, LOCATIONS)
    template = TOLD if TOLD_LATER & set(kind.types) else rng.choice(DESCRIPTIONS)
    text = template.format(who=WHO.get(affected_type, "A visitor"), loc=location.replace("_", " "),
                           what=WHAT[kind.types[0]])
    contact = contact_flags(kind.types)
    extra = tuple(flag for flag, chance, needs_contact in EXTRA_FLAGS
                  if (contact or not needs_contact) and rng.random() < chance)
    return IncidentDraft(
        ward_id=ward_id, types=kind.types, occurred_at=occurred_at,
        occurred_precision="exact" if rng.random() < 0.8 else "approximate", shift=_shift(occurred_at.astimezone()),
        location=location, people=tuple(people), flags=tuple(sorted(set(contact) | set(extra))),
        description=text, immediate_actions="Separated the people involved and increased observations.")


def spread_over_year(rng: random.Random, n: int, end: datetime, start: datetime | None = None) -> list[datetime]:
    """`n` incident times between `start` (default: 365 days before `end`) and an hour before `end`, in order."""
    seconds = int((end - start).total_seconds()) if start else 365 * 24 * 3600
    return sorted(end - timedelta(seconds=rng.randrange(3600, seconds)) for _ in range(n))
