"""Building IncidentFacts from the JSON shape in docs/incident-json.md, and refusing bad input plainly."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from core.errors import ValidationError
from core.rules import LONDON, IncidentFacts, PersonFacts, facts_from_json, worst_harm

EXAMPLE = {
    "types": ["SS-SA"],
    "occurred_at": "2026-03-14T21:40:00+00:00",
    "reported_at": "2026-03-14T22:05:00+00:00",
    "location": "lounge",
    "people": [
        {"role": "affected", "type": "patient", "age_years": 34, "detained": True, "capacity_concern": False,
         "care_support_needs": True, "police_wishes": "undecided"},
        {"role": "alleged_perpetrator", "type": "patient"},
    ],
    "flags": {"physical_contact": True, "penetration_alleged": False},
    "harm": {"physical": "none", "psychological": "moderate"},
}


def with_changes(**changes) -> dict:
    obj = copy.deepcopy(EXAMPLE)
    obj.update(changes)
    return obj


def test_the_issue_example_parses():
    facts = facts_from_json(EXAMPLE)
    assert facts.types == {"SS-SA"}
    assert facts.occurred_at == datetime(2026, 3, 14, 21, 40, tzinfo=UTC)
    assert facts.location == "lounge"
    assert facts.flags == {"physical_contact"}
    assert (facts.harm_physical, facts.harm_psychological) == ("none", "moderate")
    assert facts.people[0] == PersonFacts("affected", "patient", age_years=34, detained=True, capacity_concern=False,
                                          care_support_needs=True, police_wishes="undecided")
    assert facts.people[1] == PersonFacts("alleged_perpetrator", "patient")


def test_optional_parts_have_plain_defaults():
    facts = facts_from_json({"types": ["SS-OTHER"], "occurred_at": "2026-03-14T21:40:00+00:00",
                             "reported_at": "2026-03-14T21:40:00Z"})
    assert facts.location == "unknown"
    assert facts.people == () and facts.flags == frozenset()
    assert (facts.harm_physical, facts.harm_psychological) == ("none", "none")


def test_flags_may_be_a_list_and_harm_may_be_per_person_taking_the_worst():
    facts = facts_from_json(with_changes(
        flags=["penetration_alleged"],
        harm={"physical": "low"},
        people=[{"role": "affected", "type": "patient", "ref": "AB", "harm": {"physical": "none",
                                                                              "psychological": "severe"}},
                {"role": "affected", "type": "staff", "harm": {"physical": "moderate"}},
                {"role": "witness", "type": "patient", "harm": {"physical": "fatal"}}],
    ))
    assert facts.flags == {"penetration_alleged"}
    assert (facts.harm_physical, facts.harm_psychological) == ("moderate", "severe")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (dict(types=["SS-SA", "SS-ZZZ"]), "types", "'SS-ZZZ' is not a known incident type code"),
        (dict(types=[]), "types", "at least one incident type"),
        (dict(occurred_at="yesterday"), "occurred_at", "is not a date and time"),
        (dict(occurred_at="2026-03-14T21:40:00"), "occurred_at", "has no time zone offset"),
        (dict(reported_at="2026-03-14T20:00:00+00:00"), "reported_at", "cannot be reported before it happened"),
        (dict(location="roof"), "location", "'roof' is not a known location"),
        (dict(shift="twilight"), "shift", "'twilight' is not a known shift"),
        (dict(flags={"glitter": True}), "flags.glitter", "not a known flag"),
        (dict(flags={"physical_contact": "yes"}), "flags.physical_contact", "must be true or false"),
        (dict(harm={"physical": "awful"}), "harm.physical", "'awful' is not a physical harm level"),
        (dict(harm={"psychological": "fatal"}), "harm.psychological", "is not a psychological harm level"),
        (dict(people={"role": "affected"}), "people", "must be a list"),
        (dict(people=[{"role": "victim", "type": "patient"}]), "people[0].role", "'victim' is not allowed"),
        (dict(people=[{"role": "affected"}]), "people[0].type", "None is not allowed"),
        (dict(people=[{"role": "affected", "type": "patient", "name": "Jane"}]), "people[0].name",
         "never put a name here"),
        (dict(people=[{"role": "affected", "type": "patient", "age_years": 200}]), "people[0].age_years",
         "from 0 to 120"),
        (dict(people=[{"role": "affected", "type": "patient", "age_years": 30, "age_band": "16_17"}]),
         "people[0].age_band", "does not match age_years 30"),
        (dict(people=[{"role": "affected", "type": "patient", "detained": "yes"}]), "people[0].detained",
         "must be true, false, or null or left out for not known"),
        (dict(people=[{"role": "affected", "type": "patient", "police_wishes": "maybe"}]),
         "people[0].police_wishes", "'maybe' is not allowed"),
        (dict(occured_at="2026-03-14T21:40:00+00:00"), "occured_at", "unknown field"),
    ],
)
def test_bad_input_gives_a_plain_message_for_the_field(changes, field, words):
    with pytest.raises(ValidationError) as caught:
        facts_from_json(with_changes(**changes))
    assert field in caught.value.field_errors
    assert words in caught.value.field_errors[field]
    assert "Traceback" not in str(caught.value)


def test_several_problems_are_reported_together():
    with pytest.raises(ValidationError) as caught:
        facts_from_json(with_changes(types=["SS-ZZZ"], location="roof"))
    assert set(caught.value.field_errors) == {"types", "location"}


def test_not_an_object():
    with pytest.raises(ValidationError, match="must be a JSON object"):
        facts_from_json(["SS-SA"])


def test_incident_facts_refuse_naive_or_backwards_times():
    aware = datetime(2026, 3, 14, 21, 40, tzinfo=LONDON)
    with pytest.raises(ValidationError, match="time zone"):
        IncidentFacts(frozenset({"SS-SA"}), aware.replace(tzinfo=None), aware)
    with pytest.raises(ValidationError, match="before"):
        IncidentFacts(frozenset({"SS-SA"}), aware, aware.replace(hour=20))
    with pytest.raises(ValidationError, match="at least one"):
        IncidentFacts(frozenset(), aware, aware)


def test_reported_before_occurred_is_judged_in_real_time_not_wall_clock():
    # 01:30 BST and 01:10 GMT on 25 October 2026: the GMT time is 40 minutes later in reality.
    occurred = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON, fold=0)
    reported = datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=1)
    assert IncidentFacts(frozenset({"SS-SA"}), occurred, reported).reported_at == reported


def test_worst_harm():
    assert worst_harm("physical", ["low", None, "severe", "none"]) == "severe"
    assert worst_harm("psychological", []) == "none"
