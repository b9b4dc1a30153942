"""Scenario tests from issue 12, each written as the guidance it follows. The facts are what a nurse records;
the assertions are what the law or national guidance says must then happen (docs/safeguarding-rules.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.rules import LONDON, IncidentFacts, PersonFacts, evaluate, load_rules

NIGHT = datetime(2026, 3, 10, 23, 30, tzinfo=LONDON)  # a Tuesday


def incident(types, *people, flags=(), reported_after=timedelta(minutes=40), service_type="adult_acute",
             harm=("none", "moderate")) -> IncidentFacts:
    return IncidentFacts(types=frozenset(types), occurred_at=NIGHT, reported_at=NIGHT + reported_after,
                         location="bedroom", people=tuple(people), flags=frozenset(flags),
                         harm_physical=harm[0], harm_psychological=harm[1], service_type=service_type)


def actions(facts: IncidentFacts) -> dict[str, object]:
    return {action.rule_id: action for action in evaluate(facts, load_rules())}


def affected(type="patient", **facts) -> PersonFacts:
    return PersonFacts("affected", type, **facts)


def perpetrator(type="patient", **facts) -> PersonFacts:
    return PersonFacts("alleged_perpetrator", type, **facts)


# --- A. Fail safe on what is not known (Care Act 2014 s42; Mental Health Act 1983 s130D) -------------------

def test_rape_of_19_year_old_informal_patient_recorded_quickly_gets_s42_concern():
    # Recorded quickly: only her age and that she is a patient; the care-and-support question is left blank.
    # An inpatient on a mental health ward is an adult with care and support needs unless someone answers no.
    got = actions(incident(["SS-RAPE"], affected(age_years=19), perpetrator(age_years=30)))
    assert "adult-safeguarding-concern" in got
    assert got["adult-safeguarding-concern"].mandatory


def test_only_an_explicit_no_to_care_and_support_needs_removes_the_s42_concern():
    answered_no = actions(incident(["SS-RAPE"], affected(age_years=19, care_support_needs=False),
                                   perpetrator(age_years=30)))
    assert "adult-safeguarding-concern" not in answered_no
    assert "adult-safeguarding-check" not in answered_no


def test_detained_not_known_asks_the_nurse_to_confirm_and_tell_them_about_imha():
    got = actions(incident(["SS-SA"], affected(age_years=40), perpetrator(age_years=50), flags=["physical_contact"]))
    assert "imha-information" not in got
    check = got["imha-check"]
    assert check.title == "Confirm whether the affected patient is detained; if so, tell them about the IMHA service"
    assert check.mandatory and check.kinds == ("imha-information",)
    assert "imha-check" not in actions(incident(["SS-SA"], affected(age_years=40, detained=False),
                                                perpetrator(age_years=50)))


def test_an_age_left_blank_asks_whether_anyone_is_under_18():
    got = actions(incident(["SS-SA"], affected(), perpetrator(age_years=50)))
    assert got["childrens-social-care-check"].group == "now"
    assert "childrens-social-care-check" not in actions(
        incident(["SS-SA"], affected(under_18=False), perpetrator(age_years=50)))


def test_on_a_camhs_ward_a_patient_is_under_18_unless_an_age_says_otherwise():
    # Working Together to Safeguard Children 2023: children's social care for a child at risk of harm.
    got = actions(incident(["SS-SA"], affected(), perpetrator(age_years=16), service_type="camhs"))
    assert "childrens-social-care" in got
    assert "adult-safeguarding-concern" not in got
    grown_up = actions(incident(["SS-SA"], affected(age_years=18), perpetrator(age_years=18), service_type="camhs"))
    assert "childrens-social-care" not in grown_up and "childrens-social-care-check" not in grown_up
