"""Synthetic incident generator (core layer). Never real people: references are generated codes.

The mix follows CQC's 2018 review of 1,120 sexual incidents: exposure or nudity
(298), sexual assault (273), sexualised verbal abuse (242), harassment (about 184),
a few alleged rapes (29); about 95% carried out by patients; of those affected,
about 65% patients, 32% staff, 3% visitors; 97% graded no or low harm.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from core.dto import IncidentDraft, PersonDraft

# (weight, types, flags) following CQC's counts; a few reports carry two types (1,120 incidents in 919 reports).
MIX = [
    (200, ("SS-EXP-S",), ()),
    (98, ("SS-NUD-NS",), ()),
    (230, ("SS-SA",), ("physical_contact",)),
    (43, ("SS-SA", "SS-HAR-V"), ("physical_contact",)),
    (242, ("SS-HAR-V",), ()),
    (150, ("SS-HAR-NV",), ("physical_contact",)),
    (34, ("SS-HAR-NV", "SS-EXP-S"), ()),
    (22, ("SS-RAPE",), ("physical_contact", "penetration_alleged")),
    (7, ("SS-APEN",), ("physical_contact", "penetration_alleged")),
    (20, ("SS-VOY",), ()),
    (15, ("SS-ONLINE",), ()),
    (12, ("SS-ACT-CONS",), ("physical_contact",)),
    (10, ("SS-DISCL-HIST",), ()),
    (5, ("SS-EXPL",), ()),
    (4, ("SS-SA-MD",), ("physical_contact",)),
    (3, ("SS-OTHER",), ()),
]
LOCATIONS = [("lounge", 20), ("corridor", 15), ("bedroom", 14), ("other_patient_bedroom", 8),
             ("bathroom_toilet", 9), ("dining_room", 7), ("garden", 8), ("seclusion_extra_care", 3),
             ("therapy_room", 3), ("visiting_room", 3), ("elsewhere_on_site", 4), ("on_leave", 2),
             ("online_phone", 2), ("unknown", 2)]
SHIFTS = {range(7, 8): "morning_handover", range(8, 19): "day", range(19, 20): "evening_handover"}
DESCRIPTIONS = [
    "{who} was approached in the {loc} and {what}. Staff intervened and separated them.",
    "{who} told the nurse in charge shortly after it happened in the {loc}: {what}.",
    "Seen by a member of staff in the {loc}: {what}. Both people were moved to different areas.",
]
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


def synthetic_incident(rng: random.Random, ward_id: int, occurred_at: datetime,
                       pool: list[str] | None = None) -> IncidentDraft:
    """One realistic, entirely fictional incident. `pool` lets some patient references repeat."""
    _, types, flags = rng.choices(MIX, weights=[m[0] for m in MIX])[0]
    affected_type = _pick(rng, [("patient", 65), ("staff", 32), ("visitor", 3)])
    perpetrator_type = _pick(rng, [("patient", 95), ("staff", 5)])
    if affected_type == "staff" and perpetrator_type == "staff":
        perpetrator_type = "patient"

    def patient_ref() -> str:
        if pool and rng.random() < 0.3:
            return rng.choice(pool)
        ref = _ref(rng, "PT-")
        if pool is not None:
            pool.append(ref)
        return ref

    low = rng.random() < 0.97
    physical = "none" if low else _pick(rng, [("moderate", 2), ("severe", 1)])
    psychological = _pick(rng, [("none", 4), ("low", 6)]) if low else _pick(rng, [("moderate", 3), ("severe", 1)])
    age = rng.randrange(18, 80)
    affected = PersonDraft(
        role="affected", person_type=affected_type,
        local_ref=patient_ref() if affected_type == "patient" else _ref(rng, "ST-" if affected_type == "staff" else "VS-"),
        sex=_pick(rng, [("female", 55), ("male", 43), ("unknown", 2)]),
        age_years=age, detained=affected_type == "patient" and rng.random() < 0.7,
        capacity_concern=affected_type == "patient" and rng.random() < 0.15,
        care_support_needs=affected_type == "patient" and rng.random() < 0.6,
        police_wishes=_pick(rng, [("yes", 2), ("no", 4), ("undecided", 3), ("unable_to_decide", 1)]),
        harm_physical=physical, harm_psychological=psychological)
    perpetrator = PersonDraft(
        role="alleged_perpetrator", person_type=perpetrator_type,
        local_ref=patient_ref() if perpetrator_type == "patient" else _ref(rng, "ST-"),
        sex=_pick(rng, [("male", 75), ("female", 23), ("unknown", 2)]), age_years=rng.randrange(18, 75),
        detained=perpetrator_type == "patient" and rng.random() < 0.7)
    people = [affected, perpetrator]
    if rng.random() < 0.25:
        people.append(PersonDraft(role="witness", person_type="staff", local_ref=_ref(rng, "ST-")))
    location = _pick(rng, LOCATIONS)
    exact = rng.random() < 0.8
    who = {"patient": "A patient", "staff": "A member of staff"}.get(affected_type, "A visitor")
    text = rng.choice(DESCRIPTIONS).format(who=who,
                                           loc=location.replace("_", " "), what=WHAT[types[0]])
    extra_flags = tuple(f for f, p in (("repeat_incident", 0.12), ("mixed_sex_breach", 0.03),
                                        ("weapon_or_violence", 0.02)) if rng.random() < p)
    return IncidentDraft(
        ward_id=ward_id, types=types, occurred_at=occurred_at,
        occurred_precision="exact" if exact else "approximate", shift=_shift(occurred_at.astimezone()),
        location=location, people=tuple(people), flags=tuple(sorted(set(flags) | set(extra_flags))),
        description=text, immediate_actions="Separated the people involved and increased observations.")


def spread_over_year(rng: random.Random, n: int, end: datetime) -> list[datetime]:
    """`n` incident times over the 12 months before `end`, in time order."""
    seconds = 365 * 24 * 3600
    return sorted(end - timedelta(seconds=rng.randrange(3600, seconds)) for _ in range(n))
