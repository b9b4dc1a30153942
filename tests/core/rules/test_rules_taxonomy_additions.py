"""Issue 12 (D): the taxonomy's new types and their rules, each scenario written as the guidance it follows.

The facts are what a nurse records; the assertions are what the law or national guidance says must then happen
(docs/safeguarding-rules.md). The image-handling test is negative: no rule and no image type's wording may ever
tell staff to keep, copy, save, screenshot, print or forward an image.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from core.rules import LONDON, IncidentFacts, PersonFacts, evaluate, load_rules
from core.taxonomy import ASSAULT_CODES, load_taxonomy

NIGHT = datetime(2026, 3, 10, 23, 30, tzinfo=LONDON)  # a Tuesday
NEW_TYPES = ("SS-IMG-CHILD", "SS-CSE", "SS-TRAFFIC", "SS-DFSA", "SS-DA-VISIT")
IMAGE_TYPES = ("SS-IMG-CHILD", "SS-VOY", "SS-ONLINE")


def incident(types, *people, flags=(), location="bedroom", reported_after=timedelta(minutes=40),
             service_type="adult_acute") -> IncidentFacts:
    return IncidentFacts(types=frozenset(types), occurred_at=NIGHT, reported_at=NIGHT + reported_after,
                         location=location, people=tuple(people), flags=frozenset(flags),
                         harm_physical="none", harm_psychological="moderate", service_type=service_type)


def actions(facts: IncidentFacts) -> dict[str, object]:
    return {action.rule_id: action for action in evaluate(facts, load_rules())}


def affected(type="patient", **facts) -> PersonFacts:
    return PersonFacts("affected", type, **facts)


def perpetrator(type="patient", **facts) -> PersonFacts:
    return PersonFacts("alleged_perpetrator", type, **facts)


# --- Images of children: never copied (Protection of Children Act 1978 s1; UKCIS 2020, updated 2024) --------

IMAGE_WORD = re.compile(r"\b(images?|imagery|pictures?|photos?|photographs?|videos?|films?|nudes?|screenshots?)\b",
                        re.IGNORECASE)
# Keeping, copying or passing on an image, in any tense.
HANDLING = re.compile(r"\b(keep\w*|kept|cop(y|ies|ied|ying)|sav(e|es|ed|ing)|stor(e|es|ed|ing)|screenshot\w*|"
                      r"print\w*|forward\w*|download\w*|retain\w*|captur\w*)\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(never|not|no|nor|don't)\b", re.IGNORECASE)
OFFENCE = re.compile(r"\boffence\b", re.IGNORECASE)


def tells_staff_to_keep_an_image(text: str) -> list[str]:
    """The clauses of `text` that, in a sentence about an image, tell someone to keep, copy, save, screenshot,
    print or forward it: a handling word with no 'never', 'not' or 'no' before it in its clause, in a clause
    that does not warn it is an offence."""
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if not IMAGE_WORD.search(sentence):
            continue
        for clause in re.split(r"[;:]|\bbut\b|\binstead\b", sentence):
            for match in HANDLING.finditer(clause):
                if not NEGATION.search(clause[:match.start()]) and not OFFENCE.search(clause):
                    found.append(clause.strip())
    return found


@pytest.mark.parametrize("bad", [
    "Keep a copy of the image as evidence.",
    "Screenshot the messages and pictures for the police.",
    "Save the photo to the ward's shared drive.",
    "Do not look at the video, but forward it to the safeguarding lead.",
    "Print the image and store it in the notes.",
])
def test_the_image_check_catches_an_instruction_to_keep_or_copy(bad):
    assert tells_staff_to_keep_an_image(bad), bad


@pytest.mark.parametrize("good", [
    "Never copy, screenshot, print, save or forward the image.",
    "Do not look at it and do not save the photo.",
    "A member of staff who copies such an image 'as evidence' may commit an offence.",
    "Keep the place where it happened closed and untouched.",
])
def test_the_image_check_lets_warnings_through(good):
    assert not tells_staff_to_keep_an_image(good), good


def test_no_rule_ever_tells_staff_to_keep_copy_save_or_screenshot_an_image():
    # UKCIS (2024): never view, copy, print, share, store or save the imagery. Every rule is read, because any
    # rule can fire alongside an image type.
    for rule in load_rules().rules:
        for part in (rule.title, rule.guidance, rule.why):
            assert not tells_staff_to_keep_an_image(part), f"{rule.id}: {part}"


def test_no_image_type_definition_tells_staff_to_keep_an_image():
    taxonomy = load_taxonomy()
    for code in IMAGE_TYPES:
        entry = next(t for t in taxonomy.incident_types if t.code == code)
        for text in (entry.definition, *entry.examples):
            assert not tells_staff_to_keep_an_image(text), f"{code}: {text}"


def test_a_nude_image_of_a_15_year_old_is_never_copied_and_goes_to_police_and_childrens_social_care():
    got = actions(incident(["SS-IMG-CHILD"], affected(age_years=15, police_wishes="no"),
                           perpetrator(age_years=16), service_type="camhs", location="online_phone"))
    secure = got["child-image-secure-device"]
    assert secure.group == "now" and secure.mandatory and secure.basis == "national"
    assert "Never copy" in secure.guidance and "Do not look at it" in secure.guidance
    assert "Protection of Children Act 1978 s1" in secure.source
    assert "Sharing nudes and semi-nudes" in secure.source and "updated 2024" in secure.source
    police = got["child-image-police-social-care"]
    assert police.group == "now" and police.requires_reference and police.mandatory
    assert "children's social care" in police.guidance
    assert "childrens-social-care" in got  # a child is involved: the referral stands on its own too
    # She does not want the police; a child is involved, so a senior public-interest decision is made.
    assert "police-public-interest-decision" in got


def test_staff_are_told_that_copying_an_image_as_evidence_may_be_an_offence():
    guidance = actions(incident(["SS-IMG-CHILD"], affected(age_years=15)))["child-image-secure-device"].guidance
    assert "a member of staff who copies such an image 'as evidence' may commit an offence" in guidance


def test_the_young_person_in_the_image_is_offered_report_remove():
    report_remove = actions(incident(["SS-IMG-CHILD"], affected(age_years=14)))["child-image-report-remove"]
    assert "Report Remove" in report_remove.title and "Internet Watch Foundation" in report_remove.guidance
    assert report_remove.due == NIGHT + timedelta(minutes=40, hours=24)
    assert report_remove.basis == "local"


def test_an_image_of_a_child_found_with_an_adult_patient_goes_to_the_police_though_no_child_is_recorded():
    # UKCIS: an image of a child shared by or with an adult is child sexual abuse; the child may be unknown.
    got = actions(incident(["SS-IMG-CHILD"], perpetrator(age_years=45)))
    assert {"child-image-secure-device", "child-image-police-social-care"} <= set(got)


def test_a_bank_worker_sharing_an_image_of_a_child_goes_to_the_lado():
    # Working Together 2023, chapter 4: allegations against people who work with children go to the LADO.
    got = actions(incident(["SS-IMG-CHILD"], perpetrator("bank_or_agency", age_years=33)))
    assert "lado-referral" in got
    assert "lado-referral" not in actions(incident(["SS-IMG-CHILD"], perpetrator(age_years=33)))


# --- Online grooming and child sexual exploitation (SOA 2003 ss15, 15A; Working Together 2023) -------------

def test_a_14_year_old_groomed_online_goes_to_police_and_childrens_social_care_with_a_crime_reference():
    got = actions(incident(["SS-CSE"], affected(age_years=14), location="online_phone", service_type="camhs"))
    cse = got["child-exploitation-police-social-care"]
    assert cse.group == "now" and cse.requires_reference and cse.basis == "national"
    assert "s15A" in cse.source and "s15 " in cse.source
    assert "Do not confront" in cse.guidance
    assert {"childrens-social-care", "police-child-under-16", "lado-referral"} & set(got) == {
        "childrens-social-care", "police-child-under-16"}


def test_grooming_by_a_member_of_staff_also_goes_to_the_lado():
    got = actions(incident(["SS-CSE"], affected(age_years=16), perpetrator("staff", age_years=40)))
    assert {"lado-referral", "child-exploitation-police-social-care", "staff-allegation-senior-manager"} <= set(got)


# --- Adult sexual exploitation or trafficking (Modern Slavery Act 2015; Care Act 2014 s42) ----------------------

def test_an_adult_exploited_for_sex_goes_to_a_first_responder_for_the_nrm_and_gets_an_s42_concern():
    got = actions(incident(["SS-TRAFFIC"], affected(age_years=24, police_wishes="no"),
                           perpetrator("visitor", age_years=35)))
    nrm = got["trafficking-first-responder"]
    assert "National Referral Mechanism" in nrm.title and nrm.owner_role == "safeguarding_lead"
    assert "Modern Slavery Act 2015" in nrm.source and "s52" in nrm.source
    assert "cannot refer to the National Referral Mechanism" in nrm.guidance  # NHS staff are not First Responders
    assert "adult-safeguarding-concern" in got
    # She says no to the police, but trafficking puts others at risk: a senior decision is made and recorded.
    assert {"police-decision-record", "police-public-interest-decision"} <= set(got)
    assert "visiting-arrangements-review" in got  # the controller visits


# --- Drug-facilitated sexual assault (FFLM; SOA 2003 s61) ----------------------------------------------------

def test_a_suspected_drugging_gets_an_early_evidence_urine_sample_now_and_the_forensic_actions():
    # Graded low harm: as an assault, the grading is checked (CQC 2018: sexual incidents graded too low).
    got = actions(replace(incident(["SS-DFSA"], affected(age_years=29), perpetrator(age_years=31)),
                          harm_psychological="low"))
    urine = got["dfsa-early-evidence-urine"]
    assert urine.group == "now" and urine.mandatory and urine.basis == "national"
    assert "early-evidence kit" in urine.guidance and "FFLM" in urine.source
    assert {"evidence-preserve", "sarc-referral-offer", "isva-referral-offer", "harm-grading-confirm"} <= set(got)
    assert "SS-DFSA" in ASSAULT_CODES


def test_no_urine_sample_is_asked_for_a_drugging_reported_after_7_days_but_aftercare_is():
    got = actions(incident(["SS-DFSA"], affected(age_years=29), reported_after=timedelta(days=9)))
    assert "dfsa-early-evidence-urine" not in got and "evidence-preserve" not in got
    assert {"sexual-health-aftercare", "isva-referral-offer"} <= set(got)


# --- Domestic abuse by a visiting partner (Domestic Abuse Act 2021 s1; SafeLives Dash; MARAC) ---------------

def test_abuse_by_a_visiting_husband_gets_a_dash_checklist_a_marac_decision_and_a_review_of_visits():
    got = actions(incident(["SS-DA-VISIT"], affected(age_years=38), perpetrator("visitor", age_years=41),
                           location="visiting_room"))
    dash = got["domestic-abuse-dash"]
    assert "in private" in dash.title and "never with the alleged abuser present" in dash.guidance
    assert dash.due == NIGHT + timedelta(minutes=40, hours=24)
    marac = got["domestic-abuse-marac"]
    assert "14 or more" in marac.guidance and marac.owner_role == "safeguarding_lead"
    visits = got["visiting-arrangements-review"]
    assert visits.owner_role == "ward_manager" and "chapter 11" in visits.source
    assert "adult-safeguarding-concern" in got  # an inpatient has care and support needs unless answered no


def test_a_visitor_exposing_himself_gets_a_review_of_visits_but_no_dash():
    got = actions(incident(["SS-EXP-S"], affected(age_years=50), perpetrator("visitor"), location="visiting_room"))
    assert "visiting-arrangements-review" in got and "domestic-abuse-dash" not in got


# --- Incidents on leave (Mental Health Act 1983 s17; Code of Practice 2015 chapter 27) -----------------------

def test_an_assault_on_leave_informs_the_community_team_and_police_liaison_and_reviews_leave():
    got = actions(incident(["SS-SA"], affected(age_years=33, detained=True), perpetrator("other"),
                           location="on_leave", flags=["physical_contact"]))
    inform = got["leave-community-team-police-liaison"]
    assert "community team" in inform.title and "police liaison" in inform.title
    leave = got["leave-review"]
    assert leave.group == "now" and leave.owner_label == "Responsible clinician"
    assert "s17" in leave.source and "chapter 27" in leave.source


def test_an_incident_on_the_ward_does_not_review_leave():
    got = actions(incident(["SS-SA"], affected(age_years=33), perpetrator(age_years=40), location="lounge"))
    assert not {"leave-review", "leave-community-team-police-liaison"} & set(got)


# --- The taxonomy: definitions and legal bases (issue 12, defect 10) ------------------------------------------

def test_every_new_type_is_defined_in_plain_words_with_its_law_and_year():
    taxonomy = load_taxonomy()
    for code in NEW_TYPES:
        entry = next(t for t in taxonomy.incident_types if t.code == code)
        assert entry.possible_offence, code
        assert len(entry.definition) > 100 and re.search(r"(19|20)\d\d", entry.basis), code
    assert [c for c in taxonomy.type_codes if c in NEW_TYPES] == list(NEW_TYPES)
    assert taxonomy.type_codes[-1] == "SS-OTHER"  # 'Other' stays last in the form


@pytest.mark.parametrize(("code", "cited"), [
    ("SS-HAR-V", ("Protection from Harassment Act 1997, sections 1 and 2", "section 4", "section 40A",
                  "Worker Protection (Amendment of Equality Act 2010) Act 2023")),
    ("SS-HAR-NV", ("Protection from Harassment Act 1997, sections 1 and 2", "section 40A")),
    ("SS-ONLINE", ("section 66A", "Online Safety Act 2023")),
    ("SS-VOY", ("section 66B", "section 67", "Online Safety Act 2023")),
    ("SS-IMG-CHILD", ("Protection of Children Act 1978, section 1",)),
    ("SS-CSE", ("section 15 ", "section 15A", "Working Together to Safeguard Children 2023")),
    ("SS-TRAFFIC", ("Modern Slavery Act 2015", "section 52", "Care Act 2014, section 42")),
    ("SS-DFSA", ("section 61", "FFLM")),
    ("SS-DA-VISIT", ("Domestic Abuse Act 2021, section 1", "Dash")),
])
def test_the_legal_basis_names_the_right_act_and_section(code, cited):
    basis = next(t for t in load_taxonomy().incident_types if t.code == code).basis
    for words in cited:
        assert words in basis, f"{code}: {words!r} not in {basis!r}"


def test_every_new_type_reaches_the_police_cqc_and_adult_safeguarding_rules():
    ruleset = load_rules()
    for rule_id in ("police-report-now", "police-wishes-ask", "police-decision-record",
                    "police-public-interest-decision", "adult-safeguarding-concern", "adult-safeguarding-check"):
        assert set(NEW_TYPES) <= ruleset.rule(rule_id).when.types_any, rule_id
    cqc = ruleset.rule("cqc-notification").when.any_of[0].types_any
    assert set(NEW_TYPES) <= cqc
