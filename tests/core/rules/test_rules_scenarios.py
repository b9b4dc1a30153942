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


# --- B. Police, children and consent by law -----------------------------------------------------------------

def test_recent_rape_where_she_wants_the_police_is_reported_now_and_needs_the_crime_reference():
    # Victims' Code (2020) Right 2: the crime recorded without unjustified delay.
    got = actions(incident(["SS-RAPE"], affected(age_years=24, police_wishes="yes"), perpetrator(age_years=30)))
    report = got["police-report-now"]
    assert report.deadline_kind == "immediate" and report.group == "now"
    assert report.requires_reference and report.mandatory
    assert "police-decision-record" not in got and "police-wishes-ask" not in got


def test_repeated_harassment_where_she_wants_the_police_gets_a_police_report():
    # Protection from Harassment Act 1997: a course of conduct is an offence.
    got = actions(incident(["SS-HAR-V"], affected("staff", age_years=28, police_wishes="yes"),
                           perpetrator(age_years=40), flags=["repeat_incident"]))
    assert "police-report-now" in got


def test_an_adult_who_says_no_is_respected_and_offered_again_within_24_hours():
    got = actions(incident(["SS-SA"], affected(age_years=30, police_wishes="no"), perpetrator(age_years=35)))
    record = got["police-decision-record"]
    assert record.due == NIGHT + timedelta(minutes=40, hours=24)
    assert "police-report-now" not in got and "police-public-interest-decision" not in got


def test_a_weapon_or_a_repeating_perpetrator_needs_a_senior_public_interest_decision():
    # Care and support statutory guidance ch. 14: share without consent where others are at risk.
    for flag in ("weapon_or_violence", "repeat_incident"):
        got = actions(incident(["SS-SA"], affected(age_years=30, police_wishes="no"), perpetrator(age_years=35),
                               flags=[flag]))
        assert got["police-public-interest-decision"].owner_role == "safeguarding_lead", flag


def test_15_year_old_and_19_year_old_is_never_consensual_police_and_childrens_social_care_no_capacity_test():
    # Sexual Offences Act 2003 ss9-13: a child under 16 cannot consent; the Mental Capacity Act starts at 16.
    got = actions(incident(["SS-ACT-CONS"], affected(age_years=15), affected(age_years=19, capacity_concern=True)))
    assert {"police-child-under-16", "childrens-social-care"} <= set(got)
    assert got["police-child-under-16"].requires_reference
    assert "capacity-assessment" not in got and "capacity-check" not in got


def test_capacity_to_consent_is_assessed_from_16():
    got = actions(incident(["SS-ACT-CONS"], affected(age_years=16), affected(age_years=19)))
    assert "capacity-assessment" in got and "police-child-under-16" not in got


def test_a_12_year_old_is_rape_of_a_child_under_13_whatever_anyone_says_she_wanted():
    # Sexual Offences Act 2003 s5.
    got = actions(incident(["SS-ACT-CONS"], affected(age_years=12), affected(age_years=14), service_type="camhs"))
    assert {"child-under-13-rape", "police-child-under-16", "childrens-social-care"} <= set(got)


def test_a_camhs_patient_of_unknown_age_in_sexual_activity_asks_whether_under_16():
    got = actions(incident(["SS-ACT-CONS"], affected(), affected(age_years=17), service_type="camhs"))
    assert got["young-age-check"].kinds == ("police-child-under-16", "child-under-13-rape")


def test_verbal_staff_on_staff_harassment_follows_the_adult_victims_no():
    # Issue 12 F: the staff-on-staff police rule follows the adult victim's wishes; a public-interest
    # decision is still asked for, because a member of staff is alleged.
    got = actions(incident(["SS-HAR-V"], affected("staff", age_years=31, police_wishes="no"),
                           perpetrator("staff", age_years=45)))
    assert "police-inform-staff-alleged" not in got
    assert {"police-decision-record", "police-public-interest-decision"} <= set(got)


def test_a_staff_allegation_by_a_patient_always_goes_to_the_police():
    # Sexual Offences Act 2003 ss38-42: an offence by a care worker whatever the patient appears to agree.
    got = actions(incident(["SS-SA"], affected(age_years=40, police_wishes="no"), perpetrator("bank_or_agency")))
    assert "police-inform-staff-alleged" in got


# --- E. Windows and aftercare (FSRH 2017/2023; BHIVA/BASHH 2021; FFLM; Home Office ISVA 2017) ---------------

def test_emergency_contraception_is_due_by_120_hours_and_names_the_72_hour_pill():
    got = actions(incident(["SS-RAPE"], affected(age_years=22, could_become_pregnant=True), perpetrator()))
    ec = got["emergency-contraception"]
    assert ec.due == NIGHT + timedelta(hours=120) and ec.basis == "national"
    assert "120 hours" in ec.guidance and "72 hours" in ec.guidance


def test_pepse_is_due_by_72_hours_so_it_is_not_overdue_while_its_window_is_open():
    got = actions(incident(["SS-RAPE"], affected(age_years=22), perpetrator(), reported_after=timedelta(hours=30)))
    assert got["pepse-assessment"].due == NIGHT + timedelta(hours=72)
    assert got["pepse-assessment"].window_closed_at is None


def test_no_emergency_contraception_or_pepse_for_non_penile_contact_or_someone_who_cannot_become_pregnant():
    fingers = actions(incident(["SS-APEN"], affected(age_years=30, could_become_pregnant=True), perpetrator(),
                               flags=["penetration_alleged"]))
    assert not {"emergency-contraception", "emergency-contraception-check", "pepse-assessment"} & set(fingers)
    cannot = actions(incident(["SS-RAPE"], affected(age_years=30, could_become_pregnant=False), perpetrator()))
    assert not {"emergency-contraception", "emergency-contraception-check"} & set(cannot)
    assert "pepse-assessment" in cannot


def test_a_rape_reported_after_7_days_gets_sexual_health_aftercare_and_an_isva_not_forensic_steps():
    got = actions(incident(["SS-RAPE"], affected(age_years=30), perpetrator(), reported_after=timedelta(days=9)))
    assert {"sexual-health-aftercare", "isva-referral-offer"} <= set(got)
    assert not {"evidence-preserve", "sarc-referral-offer", "pepse-assessment"} & set(got)
    care = got["sexual-health-aftercare"].guidance
    assert "hepatitis B vaccination" in care and "pregnancy test" in care


def test_no_action_is_created_already_overdue():
    got = actions(incident(["SS-RAPE"], affected(age_years=30), perpetrator(), reported_after=timedelta(hours=71)))
    for action in got.values():
        assert action.due >= NIGHT + timedelta(hours=71), action.rule_id


# --- F. Staff allegations; and the noise that teaches staff to ignore prompts ---------------------------------

def test_a_bank_worker_allegation_tells_the_bank_office_and_considers_transferable_risk_to_children():
    # Working Together to Safeguard Children 2023, chapter 4.
    got = actions(incident(["SS-SA"], affected(age_years=35), perpetrator("bank_or_agency"),
                           flags=["physical_contact"]))
    assert {"bank-agency-office-informed", "lado-transferable-risk", "pipot-hr-referral"} <= set(got)


def test_staff_misconduct_without_harm_above_low_asks_to_confirm_the_grading():
    got = actions(incident(["SS-STAFF"], affected(age_years=35), perpetrator("staff"), harm=("none", "low")))
    assert "harm-grading-confirm" in got


def test_message_only_staff_allegation_gets_no_sarc_or_forensic_steps():
    got = actions(incident(["SS-STAFF"], affected(age_years=35), perpetrator("staff")))
    assert not {"sarc-referral-offer", "evidence-preserve"} & set(got)


def test_historic_disclosure_asks_about_contact_today_with_no_separate_now_and_no_duty_of_candour():
    # Regulation 20 covers incidents during a regulated activity, not abuse by a relative ten years ago.
    got = actions(incident(["SS-DISCL-HIST"], affected(age_years=40), perpetrator("other"), harm=("none", "severe"),
                           reported_after=timedelta(days=3650)))
    assert "disclosure-current-contact" in got
    assert "safety-separate" not in got and "duty-of-candour" not in got


def test_a_member_of_staff_harassed_gets_support_now_not_next_working_day():
    got = actions(incident(["SS-HAR-V"], affected("staff", age_years=29), perpetrator(age_years=40)))
    assert got["staff-victim-support"].group == "now"


def test_the_dashboard_harm_check_and_the_harm_grading_rule_use_the_same_types():
    from core.taxonomy import HARM_CHECK_CODES

    rule = load_rules().rule("harm-grading-confirm")
    assert rule.when.any_of[0].types_any == HARM_CHECK_CODES
