"""Every shipped safeguarding rule firing and not firing, with its deadline over Christmas 2026."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.rules import LONDON, IncidentFacts, PersonFacts, evaluate, group_for, load_rules

TUESDAY = datetime(2026, 3, 10, 14, 0, tzinfo=LONDON)


def person(role="affected", type="patient", **attributes) -> PersonFacts:
    return PersonFacts(role=role, type=type, **attributes)


def make(types=("SS-HAR-V",), people=None, flags=(), harm=("none", "none"), occurred=TUESDAY,
         reported_after=timedelta(minutes=30), location="lounge") -> IncidentFacts:
    if people is None:
        people = (person("affected", "patient"), person("alleged_perpetrator", "patient"))
    return IncidentFacts(
        types=frozenset(types),
        occurred_at=occurred,
        reported_at=occurred + reported_after,
        location=location,
        people=tuple(people),
        flags=frozenset(flags),
        harm_physical=harm[0],
        harm_psychological=harm[1],
    )


def fired(facts: IncidentFacts) -> set[str]:
    return {action.rule_id for action in evaluate(facts, load_rules())}


PATIENT_ON_PATIENT = (person("affected", "patient"), person("alleged_perpetrator", "patient"))
STAFF_ON_PATIENT = (person("affected", "patient"), person("alleged_perpetrator", "staff"))
LATE = timedelta(days=8)

# rule id -> (facts that fire it, facts that must not fire it, due when reported 24 Dec 2026 17:00).
# Each Christmas case occurs at 16:00 and is reported at 17:00 on Thursday 24 December 2026; 25 December is
# Christmas Day, 26 and 27 a weekend, 28 the Boxing Day substitute, 1 January 2027 New Year's Day.
RULE_TABLE = {
    "safety-separate": (dict(), [dict(types=("SS-DISCL-HIST",))], "2026-12-24T17:00"),
    "evidence-preserve": (
        dict(types=("SS-SA",)),
        [dict(types=("SS-SA",), reported_after=LATE), dict(types=("SS-HAR-V",), flags=("weapon_or_violence",))],
        "2026-12-24T17:00",
    ),
    "sarc-referral-offer": (
        dict(types=("SS-HAR-NV",), flags=("physical_contact",)),
        [dict(types=("SS-HAR-NV",), flags=("physical_contact",), reported_after=LATE), dict(types=("SS-EXP-S",))],
        "2026-12-24T17:00",
    ),
    "staff-allegation-senior-manager": (
        dict(types=("SS-HAR-V",), people=STAFF_ON_PATIENT),
        [dict(types=("SS-SA",), people=PATIENT_ON_PATIENT)],
        "2026-12-24T17:00",
    ),
    "childrens-social-care": (
        dict(people=(person("affected", "patient", age_years=16), person("alleged_perpetrator", "patient"))),
        [dict(people=(person("affected", "patient", age_years=18), person("alleged_perpetrator", "patient",
                                                                          age_band="18_25"))),
         dict(people=(person("affected", "patient"), person("witness", "patient", age_years=15)))],
        "2026-12-24T17:00",
    ),
    "childrens-social-care-check": (
        dict(people=(person("affected", "patient", age_years=30), person("alleged_perpetrator", "visitor"))),
        [dict(people=(person("affected", "patient", age_years=30), person("alleged_perpetrator", "visitor",
                                                                          under_18=False))),
         dict(people=(person("affected", "patient", age_years=30), person("witness", "visitor")))],
        "2026-12-24T17:00",
    ),
    "pepse-assessment": (
        dict(types=("SS-RAPE",)),
        [dict(types=("SS-RAPE",), reported_after=timedelta(hours=80)), dict(types=("SS-SA",)),
         # Issue 12: no PEPSE for non-penile penetration.
         dict(types=("SS-APEN",), flags=("penetration_alleged",))],
        "2026-12-27T16:00",  # 72 hours from the incident (BHIVA/BASHH 2021)
    ),
    "emergency-contraception": (
        dict(types=("SS-SA",), flags=("penetration_alleged",),
             people=(person("affected", "patient", could_become_pregnant=True), person("alleged_perpetrator", "patient"))),
        [dict(types=("SS-RAPE",), people=(person("affected", "patient", could_become_pregnant=False),)),
         dict(types=("SS-RAPE",), people=(person("affected", "patient", could_become_pregnant=True),),
              reported_after=timedelta(days=6)),
         dict(types=("SS-APEN",), flags=("penetration_alleged",),
              people=(person("affected", "patient", could_become_pregnant=True),)),
         dict(types=("SS-SA",), people=(person("affected", "patient", could_become_pregnant=True),))],
        "2026-12-29T16:00",  # 120 hours from the incident (FSRH)
    ),
    "emergency-contraception-check": (
        dict(types=("SS-HAR-NV",), flags=("penile_penetration_or_ejaculation",)),
        [dict(types=("SS-RAPE",), people=(person("affected", "patient", could_become_pregnant=False),)),
         dict(types=("SS-SA",))],
        "2026-12-29T16:00",
    ),
    "sexual-health-aftercare": (
        dict(types=("SS-SA",), reported_after=LATE),
        [dict(types=("SS-SA",)), dict(types=("SS-HAR-V",), reported_after=LATE)],
        "2027-01-05T17:00",
    ),
    "isva-referral-offer": (
        dict(types=("SS-SA",)),
        [dict(types=("SS-HAR-V",)), dict(types=("SS-STAFF",), people=STAFF_ON_PATIENT)],
        "2026-12-30T17:00",
    ),
    "bank-agency-office-informed": (
        dict(people=(person("affected", "patient"), person("alleged_perpetrator", "bank_or_agency"))),
        [dict(people=STAFF_ON_PATIENT)],
        "2026-12-25T17:00",
    ),
    "lado-transferable-risk": (
        dict(people=(person("affected", "patient", age_years=30), person("alleged_perpetrator", "staff"))),
        [dict(people=(person("affected", "patient", age_years=15), person("alleged_perpetrator", "staff"))),
         dict(people=PATIENT_ON_PATIENT)],
        "2026-12-29T17:00",
    ),
    "disclosure-current-contact": (
        dict(types=("SS-DISCL-HIST",)),
        [dict(types=("SS-SA",))],
        "2026-12-29T17:00",
    ),
    "police-report-now": (
        dict(types=("SS-HAR-V",), flags=("repeat_incident",),
             people=(person("affected", "staff", police_wishes="yes"), person("alleged_perpetrator", "patient"))),
        [dict(types=("SS-SA",), people=(person("affected", "patient", police_wishes="no"),)),
         dict(types=("SS-NUD-NS",), people=(person("affected", "patient", police_wishes="yes"),))],
        "2026-12-24T17:00",
    ),
    "police-wishes-ask": (
        dict(types=("SS-EXP-S",)),
        [dict(types=("SS-EXP-S",), people=(person("affected", "patient", police_wishes="undecided"),)),
         dict(types=("SS-NUD-NS", "SS-ACT-CONS"))],
        "2026-12-24T17:00",
    ),
    "police-decision-record": (
        dict(types=("SS-SA",), people=(person("affected", "patient", police_wishes="no"),)),
        [dict(types=("SS-SA",), people=(person("affected", "patient", police_wishes="yes"),)),
         dict(types=("SS-SA",), people=(person("affected", "patient", police_wishes="unable_to_decide"),))],
        "2026-12-25T17:00",
    ),
    "police-public-interest-decision": (
        dict(types=("SS-SA",), flags=("weapon_or_violence",),
             people=(person("affected", "patient", age_years=30, police_wishes="no"),
                     person("alleged_perpetrator", "patient", age_years=40))),
        [dict(types=("SS-SA",), people=(person("affected", "patient", age_years=30, police_wishes="no"),
                                        person("alleged_perpetrator", "patient", age_years=40))),
         dict(types=("SS-SA",), flags=("weapon_or_violence",),
              people=(person("affected", "patient", age_years=30, police_wishes="yes"),))],
        "2026-12-25T05:00",
    ),
    "police-child-under-16": (
        dict(types=("SS-ACT-CONS",), people=(person("affected", "patient", age_years=15),
                                             person("alleged_perpetrator", "patient", age_years=19))),
        [dict(types=("SS-ACT-CONS",), people=(person("affected", "patient", age_years=16),
                                              person("alleged_perpetrator", "patient", age_years=19))),
         dict(types=("SS-HAR-V",), people=(person("affected", "patient", age_years=15),))],
        "2026-12-24T17:00",
    ),
    "child-under-13-rape": (
        dict(types=("SS-ACT-CONS",), people=(person("affected", "patient", age_years=12),)),
        [dict(types=("SS-ACT-CONS",), people=(person("affected", "patient", age_years=13),))],
        "2026-12-24T17:00",
    ),
    "young-age-check": (
        dict(types=("SS-SA",), people=(person("affected", "patient", under_18=True),)),
        [dict(types=("SS-SA",), people=(person("affected", "patient", age_band="16_17"),)),
         dict(types=("SS-HAR-V",), people=(person("affected", "patient", under_18=True),))],
        "2026-12-24T17:00",
    ),
    "police-inform-staff-alleged": (
        dict(types=("SS-HAR-V",), people=STAFF_ON_PATIENT),
        [dict(types=("SS-SA",), people=PATIENT_ON_PATIENT),
         # Staff on staff follows the adult victim's wishes (issue 12 F).
         dict(types=("SS-HAR-V",), people=(person("affected", "staff", age_years=30, police_wishes="no"),
                                           person("alleged_perpetrator", "staff")))],
        "2026-12-25T05:00",
    ),
    "capacity-assessment": (
        dict(types=("SS-SA",), people=(person("affected", "patient"),
                                       person("alleged_perpetrator", "patient", capacity_concern=True))),
        [dict(types=("SS-SA",), people=(person("affected", "patient", capacity_concern=False),)),
         # Capacity to consent to sexual relations is about sexual contact, not verbal harassment (issue 12).
         dict(types=("SS-HAR-V",), people=(person("alleged_perpetrator", "patient", capacity_concern=True),))],
        "2026-12-25T17:00",
    ),
    "capacity-check": (
        dict(types=("SS-SA",), people=(person("affected", "patient", capacity_concern=False),
                                       person("alleged_perpetrator", "patient"))),
        [dict(types=("SS-SA",), people=(person("affected", "patient", capacity_concern=False),
                                        person("alleged_perpetrator", "patient", capacity_concern=False))),
         dict(types=("SS-HAR-V",)),
         dict(types=("SS-ACT-CONS",))],
        "2026-12-25T17:00",
    ),
    "record-on-trust-system": (dict(), [], "2026-12-25T17:00"),
    "cqc-notification": (
        dict(types=("SS-SA",)),
        [dict(types=("SS-SA",), people=(person("affected", "staff"), person("alleged_perpetrator", "patient"))),
         dict(types=("SS-NUD-NS",))],
        "2026-12-25T17:00",
    ),
    "cqc-under-18-adult-ward": (
        dict(people=(person("affected", "patient", age_band="16_17"),)),
        [dict(people=(person("affected", "patient", age_years=30),)),
         dict(people=(person("affected", "staff", age_years=17),))],
        "2026-12-25T17:00",
    ),
    "risk-care-plan-review": (dict(), [], "2026-12-27T17:00"),
    "support-debrief": (dict(), [], "2026-12-27T17:00"),
    "adult-safeguarding-concern": (
        dict(people=(person("affected", "patient", care_support_needs=True),)),
        # (a patient whose needs are not recorded is presumed to have them: see test_rules_scenarios.py)
        [dict(people=(person("affected", "patient", care_support_needs=False),)),
         dict(people=(person("affected", "patient", care_support_needs=True, age_years=17),)),
         dict(types=("SS-NUD-NS",), people=(person("affected", "patient", care_support_needs=True),)),
         dict(people=(person("witness", "patient", care_support_needs=True),))],
        "2026-12-29T17:00",
    ),
    "adult-safeguarding-check": (
        dict(people=(person("affected", "visitor"),)),
        [dict(people=(person("affected", "visitor", care_support_needs=False),)),
         dict(people=(person("affected", "patient"),))],
        "2026-12-29T17:00",
    ),
    "lado-referral-check": (
        dict(people=(person("affected", "patient"), person("alleged_perpetrator", "staff"))),
        [dict(people=(person("affected", "patient", under_18=False), person("alleged_perpetrator", "staff"))),
         dict(people=(person("affected", "patient"), person("alleged_perpetrator", "patient")))],
        "2026-12-29T17:00",
    ),
    "lado-referral": (
        dict(people=(person("affected", "patient", age_years=15), person("alleged_perpetrator", "staff"))),
        [dict(people=(person("affected", "patient", age_years=30), person("alleged_perpetrator", "staff"))),
         dict(people=(person("affected", "patient", age_years=15), person("alleged_perpetrator", "patient")))],
        "2026-12-29T17:00",
    ),
    "pipot-hr-referral": (dict(types=("SS-STAFF",), people=()), [dict(people=PATIENT_ON_PATIENT)],
                          "2026-12-29T17:00"),
    "dbs-regulator-referral": (dict(people=STAFF_ON_PATIENT), [dict(people=PATIENT_ON_PATIENT)],
                               "2027-01-12T17:00"),
    "duty-of-candour": (
        dict(types=("SS-SA",), harm=("none", "moderate")),
        [dict(types=("SS-SA",), harm=("low", "low")),
         dict(types=("SS-DISCL-HIST",), harm=("none", "severe")),  # Reg 20: only during a regulated activity
         dict(types=("SS-SA",), harm=("severe", "none"),
              people=(person("affected", "staff"), person("alleged_perpetrator", "patient")))],
        "2027-01-12T17:00",
    ),
    "harm-grading-confirm": (
        dict(types=("SS-SA",), harm=("low", "none")),
        [dict(types=("SS-SA",), harm=("none", "moderate")), dict(types=("SS-HAR-V",))],
        "2026-12-29T17:00",
    ),
    "imha-information": (
        dict(people=(person("affected", "patient", detained=True),)),
        [dict(people=(person("affected", "patient"), person("alleged_perpetrator", "patient", detained=True)))],
        "2026-12-29T17:00",
    ),
    "imha-check": (
        dict(people=(person("affected", "patient"),)),
        [dict(people=(person("affected", "patient", detained=False),)),
         dict(people=(person("affected", "staff"),))],
        "2026-12-29T17:00",
    ),
    "independent-advocacy": (
        dict(people=(person("affected", "patient", care_support_needs=True, capacity_concern=True),)),
        [dict(people=(person("affected", "patient", care_support_needs=True),))],
        "2026-12-30T17:00",
    ),
    "mixed-sex-breach": (dict(flags=("mixed_sex_breach",)), [dict(flags=("repeat_incident",))],
                         "2026-12-29T17:00"),
    "staff-victim-support": (
        dict(people=(person("affected", "staff"), person("alleged_perpetrator", "patient"))),
        [dict(people=PATIENT_ON_PATIENT)],
        "2026-12-24T17:00",  # support now, not the next working day (issue 12)
    ),
    "next-of-kin": (dict(), [dict(people=(person("affected", "staff"),))], "2026-12-30T17:00"),
    "notify-sexual-safety-lead": (dict(), [], "2026-12-29T17:00"),
    "psirf-response-decision": (dict(), [], "2027-01-05T17:00"),
    # Issue 12 (D): images of children, grooming, exploitation, drugging, domestic abuse and leave.
    "child-image-secure-device": (dict(types=("SS-IMG-CHILD",)), [dict(types=("SS-VOY",))], "2026-12-24T17:00"),
    "child-image-police-social-care": (dict(types=("SS-IMG-CHILD",)), [dict(types=("SS-ONLINE",))],
                                       "2026-12-24T17:00"),
    "child-image-report-remove": (dict(types=("SS-IMG-CHILD",)), [dict(types=("SS-CSE",))], "2026-12-25T17:00"),
    "child-exploitation-police-social-care": (dict(types=("SS-CSE",)), [dict(types=("SS-EXPL",))],
                                              "2026-12-24T17:00"),
    "trafficking-first-responder": (dict(types=("SS-TRAFFIC",)), [dict(types=("SS-EXPL",))], "2026-12-29T17:00"),
    "dfsa-early-evidence-urine": (dict(types=("SS-DFSA",)),
                                  [dict(types=("SS-DFSA",), reported_after=LATE), dict(types=("SS-SA",))],
                                  "2026-12-24T17:00"),
    "domestic-abuse-dash": (dict(types=("SS-DA-VISIT",)), [dict(types=("SS-SA",))], "2026-12-25T17:00"),
    "domestic-abuse-marac": (dict(types=("SS-DA-VISIT",)), [dict(types=("SS-SA",))], "2026-12-29T17:00"),
    "visiting-arrangements-review": (
        dict(types=("SS-SA",), people=(person("affected", "patient"), person("alleged_perpetrator", "visitor"))),
        [dict(types=("SS-SA",))],
        "2026-12-25T17:00",
    ),
    "leave-community-team-police-liaison": (dict(location="on_leave"), [dict(location="garden")],
                                            "2026-12-25T17:00"),
    "leave-review": (dict(location="on_leave"), [dict(location="elsewhere_on_site")], "2026-12-24T17:00"),
}


def test_the_table_covers_every_shipped_rule():
    assert set(RULE_TABLE) == set(load_rules().ids)


@pytest.mark.parametrize("rule_id", sorted(RULE_TABLE))
def test_rule_fires(rule_id):
    fires, _, _ = RULE_TABLE[rule_id]
    assert rule_id in fired(make(**fires))


@pytest.mark.parametrize(
    ("rule_id", "misses"),
    [(rule_id, misses) for rule_id, (_, cases, _) in sorted(RULE_TABLE.items()) for misses in cases],
)
def test_rule_does_not_fire(rule_id, misses):
    assert rule_id not in fired(make(**misses))


@pytest.mark.parametrize("rule_id", sorted(RULE_TABLE))
def test_rule_deadline_over_christmas(rule_id):
    fires, _, due = RULE_TABLE[rule_id]
    reported_after = fires.get("reported_after", timedelta(hours=1))  # a late report stays late
    reported = datetime(2026, 12, 24, 17, 0, tzinfo=LONDON)
    facts = make(**{**fires, "occurred": reported - reported_after, "reported_after": reported_after})
    action = next(a for a in evaluate(facts, load_rules()) if a.rule_id == rule_id)
    assert action.due == datetime.fromisoformat(due).replace(tzinfo=LONDON)
    assert action.due.tzinfo is LONDON


def test_always_rules_fire_for_a_bare_incident():
    facts = make(types=("SS-OTHER",), people=())
    assert {"safety-separate", "record-on-trust-system", "risk-care-plan-review", "support-debrief",
            "notify-sexual-safety-lead", "psirf-response-decision"} <= fired(facts)


def test_example_from_the_issue_gives_the_expected_actions():
    facts = make(
        types=("SS-SA",),
        people=(person("affected", "patient", age_years=34, detained=True, capacity_concern=False,
                       care_support_needs=True, police_wishes="undecided"),
                person("alleged_perpetrator", "patient")),
        flags=("physical_contact",),
        harm=("none", "moderate"),
    )
    assert fired(facts) == {
        "safety-separate", "evidence-preserve", "sarc-referral-offer", "record-on-trust-system",
        "cqc-notification", "adult-safeguarding-concern", "imha-information", "notify-sexual-safety-lead",
        "risk-care-plan-review", "support-debrief", "next-of-kin", "psirf-response-decision", "duty-of-candour",
        "isva-referral-offer",  # an ISVA is offered after every contact assault (issue 12 E)
        # Issue 12: the perpetrator's age and capacity are not recorded, so each is a check, not a silence.
        "childrens-social-care-check", "capacity-check",
        # Her wishes drive the police action: undecided means record it and offer again; the blank perpetrator
        # age may mean a child, so a senior public-interest decision is asked for too.
        "police-decision-record", "police-public-interest-decision",
    }


def test_actions_are_sorted_by_due_then_mandatory_first():
    facts = make(types=("SS-SA",), people=(person("affected", "patient", care_support_needs=True,
                                                  capacity_concern=True),))
    actions = evaluate(facts, load_rules())
    keys = [(a.due, not a.mandatory) for a in actions]
    assert keys == sorted(keys)
    assert actions[0].rule_id == "safety-separate"


def test_action_carries_the_rule_text():
    action = next(a for a in evaluate(make(), load_rules()) if a.rule_id == "notify-sexual-safety-lead")
    assert action.title == "Notify the sexual safety lead"
    assert action.owner_role == "nurse" and action.owner_label == "Nurse in charge"
    assert action.mandatory and action.deadline_kind == "working_days"
    assert "Sexual Safety in Healthcare Organisational Charter (2023)" in action.source
    assert action.basis == "local" and action.basis_label == "local policy (a trust may change it)"
    assert action.guidance and action.why


def test_groups():
    reported = TUESDAY
    assert group_for(reported, reported, "immediate") == "now"
    assert group_for(reported + timedelta(minutes=60), reported, "hours") == "now"
    assert group_for(reported + timedelta(minutes=61), reported, "hours") == "today"
    assert group_for(reported + timedelta(hours=24), reported, "hours") == "today"
    assert group_for(reported + timedelta(hours=25), reported, "working_days") == "later"
    assert group_for(reported - timedelta(hours=5), reported, "hours") == "now"  # already overdue


def test_group_is_set_on_actions():
    actions = {a.rule_id: a for a in evaluate(make(types=("SS-EXP-S",)), load_rules())}
    assert actions["safety-separate"].group == "now"
    assert actions["police-wishes-ask"].group == "now"
    assert actions["record-on-trust-system"].group == "today"
    assert actions["psirf-response-decision"].group == "later"


def test_an_action_whose_window_closed_before_the_report_says_so_and_is_due_now(tmp_path):
    # Issue 12 (E): no action is created already overdue without saying so. (It used to be created with its
    # due time in the past and nothing else said.) A trust override gives PEPSE a 24-hour window here.
    override = tmp_path / "rules-local.toml"
    override.write_text('version = 1\n[[change]]\nid = "pepse-assessment"\n'
                        'deadline = { kind = "hours", n = 24, from = "occurred" }\n', encoding="utf-8")
    facts = make(types=("SS-RAPE",), reported_after=timedelta(hours=30))
    action = next(a for a in evaluate(facts, load_rules(override_path=override)) if a.rule_id == "pepse-assessment")
    assert action.window_closed_at == TUESDAY + timedelta(hours=24)
    assert action.due == facts.reported_at
    assert action.guidance.startswith("The window closed at 14:00 on Wed 11 Mar 2026: record what was done.")
    assert action.group == "now"
    assert action.basis == "local"  # a deadline the trust changed is the trust's own


def test_age_band_and_unknown_sex_are_used():
    young = make(people=(person("alleged_perpetrator", "patient", age_band="10_15"),))
    assert "childrens-social-care" in fired(young)
    unrecorded = make(types=("SS-RAPE",), people=(person("affected", "patient"),))
    assert "emergency-contraception-check" in fired(unrecorded)
