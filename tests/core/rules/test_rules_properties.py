"""Property tests over generated incidents: every incident gets actions, none due before it happened, and an
answer of "not known" never removes a mandatory safeguarding action (issue 12, part A)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.rules import LONDON, IncidentFacts, PersonFacts, evaluate, load_rules
from core.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
RULES = load_rules()
STAFF_POLICE_RULE = "police-inform-staff-alleged"
MONDAY = datetime(2026, 3, 9, 9, 0, tzinfo=LONDON)

maybe_bool = st.sampled_from([None, True, False])

people = st.builds(
    PersonFacts,
    role=st.sampled_from(TAXONOMY.codes("person_roles")),
    type=st.sampled_from(TAXONOMY.codes("person_types")),
    age_years=st.none() | st.integers(0, 110),
    age_band=st.none() | st.sampled_from(TAXONOMY.codes("age_bands")),
    sex=st.none() | st.sampled_from(TAXONOMY.codes("sexes")),
    detained=maybe_bool,
    capacity_concern=maybe_bool,
    care_support_needs=maybe_bool,
    police_wishes=st.none() | st.sampled_from(TAXONOMY.codes("police_wishes")),
    linked_user=st.booleans(),
    under_18=maybe_bool,
    could_become_pregnant=maybe_bool,
)


@st.composite
def incidents(draw) -> IncidentFacts:
    zone = draw(st.sampled_from([LONDON, UTC]))
    occurred = draw(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                                 timezones=st.just(zone)))
    delay = draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
    return IncidentFacts(
        types=frozenset(draw(st.sets(st.sampled_from(TAXONOMY.type_codes), min_size=1, max_size=4))),
        occurred_at=occurred,
        reported_at=(occurred.astimezone(UTC) + delay).astimezone(zone),
        location=draw(st.sampled_from(TAXONOMY.codes("locations"))),
        people=tuple(draw(st.lists(people, max_size=5))),
        flags=frozenset(draw(st.sets(st.sampled_from(TAXONOMY.codes("context_flags"))))),
        harm_physical=draw(st.sampled_from(TAXONOMY.codes("harm_physical"))),
        harm_psychological=draw(st.sampled_from(TAXONOMY.codes("harm_psychological"))),
        service_type=draw(st.sampled_from([None, "adult_acute", "camhs", "forensic"])),
    )


@settings(max_examples=150, deadline=None)
@given(incidents())
def test_every_incident_gets_at_least_one_mandatory_action(facts):
    actions = evaluate(facts, RULES)
    assert actions
    assert any(action.mandatory for action in actions)


@settings(max_examples=150, deadline=None)
@given(incidents())
def test_no_deadline_falls_before_the_incident(facts):
    for action in evaluate(facts, RULES):
        assert action.due.astimezone(UTC) >= facts.occurred_at.astimezone(UTC), action.rule_id
        assert action.due.utcoffset() is not None


@settings(max_examples=150, deadline=None)
@given(incidents(), st.sampled_from(TAXONOMY.codes("person_types")))
def test_a_staff_alleged_incident_always_gets_the_police_rule(facts, affected_type):
    staff_alleged = IncidentFacts(
        types=facts.types,
        occurred_at=facts.occurred_at,
        reported_at=facts.reported_at,
        location=facts.location,
        people=(*facts.people, PersonFacts("alleged_perpetrator", "staff"), PersonFacts("affected", affected_type)),
        flags=facts.flags,
        harm_physical=facts.harm_physical,
        harm_psychological=facts.harm_psychological,
    )
    assert STAFF_POLICE_RULE in {a.rule_id for a in evaluate(staff_alleged, RULES)}


@settings(max_examples=100, deadline=None)
@given(incidents())
def test_actions_are_ordered_and_grouped_consistently(facts):
    actions = evaluate(facts, RULES)
    dues = [a.due.astimezone(UTC) for a in actions]
    assert dues == sorted(dues)
    reported = facts.reported_at.astimezone(UTC)
    for action in actions:
        due = action.due.astimezone(UTC)
        expected = ("now" if action.deadline_kind == "immediate" or due <= reported + timedelta(hours=1)
                    else "today" if due <= reported + timedelta(hours=24) else "later")
        assert action.group == expected


# Each answer a nurse can leave as "not known", and how to blank it on one person.
UNKNOWN_ANSWERS = {
    "detained": dict(detained=None),
    "capacity_concern": dict(capacity_concern=None),
    "care_support_needs": dict(care_support_needs=None),
    "could_become_pregnant": dict(could_become_pregnant=None),
    "police_wishes": dict(police_wishes=None),
    "age": dict(age_years=None, age_band=None, under_18=None),
}


def mandatory_kinds(facts: IncidentFacts) -> set[str]:
    """The mandatory actions as the things to be done: a "not known" check counts as the action it checks for."""
    return {kind for action in evaluate(facts, RULES) if action.mandatory for kind in action.kinds}


@settings(max_examples=300, deadline=None)
@given(incidents(), st.data())
def test_not_known_never_removes_a_mandatory_action(facts, data):
    if not facts.people:
        return
    position = data.draw(st.integers(0, len(facts.people) - 1))
    answer = data.draw(st.sampled_from(sorted(UNKNOWN_ANSWERS)))
    people = list(facts.people)
    people[position] = replace(people[position], **UNKNOWN_ANSWERS[answer])
    blanked = replace(facts, people=tuple(people))
    missing = mandatory_kinds(facts) - mandatory_kinds(blanked)
    assert not missing, f"blanking {answer} of person {position} removed {sorted(missing)}"


@settings(max_examples=100, deadline=None)
@given(incidents())
def test_an_unknown_ward_never_removes_a_mandatory_action(facts):
    missing = mandatory_kinds(facts) - mandatory_kinds(replace(facts, service_type=None))
    assert not missing


def test_the_check_rules_really_are_checks():
    for rule in RULES.rules:
        if rule.checks:
            assert rule.title.startswith("Confirm"), rule.id
            for name in rule.checks:
                assert rule.mandatory >= RULES.rule(name).mandatory, rule.id
                assert rule.deadline.due(MONDAY, MONDAY) <= RULES.rule(name).deadline.due(MONDAY, MONDAY), rule.id
