"""The yes / no / not known answers about each person, and the ward's service type, reach the rules through the
services (issue 12 A, defect 1), on a real encrypted store.

A blank answer never removes a safeguarding action: it gives a "Confirm whether ..." check, or (for the two
presumptions) the action itself. Only an explicit no removes it.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import utcnow
from core.dto import FormState, IncidentDraft, PersonDraft
from core.errors import ValidationError
from core.rules import active_rules
from core.services import accounts, drafts, incidents

ANSWERS = ("detained", "capacity_concern", "care_support_needs", "under_18", "could_become_pregnant")


def _draft(ward_id: int, *, affected: PersonDraft | None = None, types=("SS-SA",),
           flags=("physical_contact",)) -> IncidentDraft:
    affected = affected or PersonDraft("affected", "patient", "PT-0001")
    return IncidentDraft(
        ward_id=ward_id, types=types, occurred_at=utcnow() - timedelta(hours=2), location="bedroom",
        people=(replace(affected, harm_physical="none", harm_psychological="moderate"),
                PersonDraft("alleged_perpetrator", "patient", "PT-0002", under_18=False, capacity_concern=False)),
        flags=flags, description="Synthetic test incident.")


def _submit(store, actor, draft: IncidentDraft):
    created = incidents.create_draft(store, actor, draft)
    return incidents.submit(store, actor, created.incident_id)


def _rule_ids(detail) -> set[str]:
    return {a.rule_id for a in detail.actions}


@pytest.fixture
def camhs(make_store):
    store, actors, _recovery, wards = make_store()
    ward = accounts.create_ward(store, actors["admin"], "Willow CAMHS Ward", service_type="camhs")
    return store, actors, wards, ward.ward_id


def test_a_camhs_patient_of_unknown_age_gets_the_childrens_actions(camhs):
    store, actors, wards, camhs_ward = camhs
    lead = actors["lead"]
    on_camhs = _submit(store, lead, _draft(camhs_ward))
    assert {"childrens-social-care", "young-age-check"} <= _rule_ids(on_camhs)

    # The same report on an adult ward only asks to confirm the age: the presumption is the ward's.
    on_adult = _submit(store, lead, _draft(wards["Oak Ward"]))
    assert "childrens-social-care-check" in _rule_ids(on_adult)
    assert "childrens-social-care" not in _rule_ids(on_adult)

    # An explicit answer overrides the presumption, on either ward.
    grown_up = PersonDraft("affected", "patient", "PT-0003", under_18=False)
    assert not {"childrens-social-care", "childrens-social-care-check", "young-age-check"} & _rule_ids(
        _submit(store, lead, _draft(camhs_ward, affected=grown_up)))


def test_the_ward_service_type_reaches_actions_for(camhs):
    _store, _actors, _wards, _camhs_ward = camhs
    draft = _draft(1)
    assert "childrens-social-care" in {a.rule_id for a in incidents.actions_for(draft, utcnow(), "camhs")}
    assert "childrens-social-care" not in {a.rule_id for a in incidents.actions_for(draft, utcnow(), "adult_acute")}


def test_an_adult_ward_patient_with_blank_answers_gets_the_s42_concern_and_the_imha_check(make_store):
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    blank = _submit(store, nurse, _draft(wards["Oak Ward"]))
    ids = _rule_ids(blank)
    assert "adult-safeguarding-concern" in ids  # a patient has care and support needs unless answered no
    assert "imha-check" in ids
    check = next(a for a in blank.actions if a.rule_id == "imha-check")
    assert check.title.startswith("Confirm whether") and "detained" in check.title and "IMHA" in check.title
    assert "police-wishes-ask" in ids and "capacity-check" in ids and "childrens-social-care-check" in ids

    answered = PersonDraft("affected", "patient", "PT-0001", detained=False, care_support_needs=False,
                           capacity_concern=False, under_18=False, police_wishes="no")
    ids = _rule_ids(_submit(store, nurse, _draft(wards["Oak Ward"], affected=answered)))
    assert not {"adult-safeguarding-concern", "adult-safeguarding-check", "imha-check", "imha-information",
                "police-wishes-ask", "capacity-check", "childrens-social-care-check"} & ids
    assert "police-decision-record" in ids

    detained = replace(answered, detained=True)
    assert "imha-information" in _rule_ids(_submit(store, nurse, _draft(wards["Oak Ward"], affected=detained)))


def test_could_become_pregnant_drives_emergency_contraception(make_store):
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]

    def rule_ids(answer):
        person = PersonDraft("affected", "patient", "PT-0001", under_18=False, could_become_pregnant=answer)
        return _rule_ids(_submit(store, nurse, _draft(wards["Oak Ward"], affected=person, types=("SS-RAPE",),
                                                      flags=("physical_contact", "penetration_alleged",
                                                             "penile_penetration_or_ejaculation"))))

    assert "emergency-contraception-check" in rule_ids(None)
    assert "emergency-contraception" in rule_ids(True)
    assert not {"emergency-contraception", "emergency-contraception-check"} & rule_ids(False)


def test_the_new_answers_are_kept_with_the_record(make_store):
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    person = PersonDraft("affected", "patient", "PT-0001", under_18=True, could_become_pregnant=False)
    submitted = _submit(store, nurse, _draft(wards["Oak Ward"], affected=person))
    kept = incidents.get_incident(store, nurse, submitted.incident_id).draft.people[0]
    assert (kept.under_18, kept.could_become_pregnant) == (True, False)
    assert "childrens-social-care" in _rule_ids(submitted)


def test_an_age_and_an_under_18_answer_that_disagree_are_refused_naming_the_person(make_store):
    store, actors, _recovery, wards = make_store()
    person = PersonDraft("affected", "patient", "PT-0001", age_years=30, under_18=True)
    with pytest.raises(ValidationError) as refused:
        incidents.create_draft(store, actors["nurse"], _draft(wards["Oak Ward"], affected=person))
    assert "Person 1" in refused.value.field_errors["people.1"] and "Under 18" in refused.value.field_errors["people.1"]


def test_each_action_says_whether_its_deadline_is_national_or_local_policy(make_store):
    store, actors, _recovery, wards = make_store()
    submitted = _submit(store, actors["nurse"], _draft(wards["Oak Ward"]))
    bases = {a.rule_id: a.basis for a in submitted.actions}
    rules = active_rules()
    assert bases == {rule_id: rules.rule(rule_id).basis for rule_id in bases}
    assert bases["childrens-social-care-check"] == "national" and bases["police-wishes-ask"] == "local"
    # The same when read back later.
    again = incidents.get_incident(store, actors["nurse"], submitted.incident_id)
    assert {a.rule_id: a.basis for a in again.actions} == bases
    # A "not known" check says it is one.
    assert {a.rule_id for a in again.actions if a.check} == {
        rule_id for rule_id in bases if rules.rule(rule_id).checks} >= {"imha-check", "police-wishes-ask"}
    assert not next(a for a in again.actions if a.rule_id == "adult-safeguarding-concern").check


def test_the_new_answers_survive_autosave(make_store):
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    person = PersonDraft("affected", "patient", "PT-0001", under_18=False, could_become_pregnant=True,
                         detained=None, care_support_needs=False)
    draft = _draft(wards["Oak Ward"], affected=person)
    drafts.save_form(store, nurse, FormState(draft))
    restored = drafts.load_form(store, nurse).form.draft
    assert restored.people == draft.people


# ----- a blank answer never removes a mandatory action (through the services, on the store) ---------------

def _kinds(detail) -> set[str]:
    rules = active_rules()
    return {kind for a in detail.actions if a.mandatory for kind in rules.rule(a.rule_id).kinds}


_yes_no = st.sampled_from([True, False, None])


@st.composite
def _people(draw):
    return PersonDraft(
        "affected", draw(st.sampled_from(["patient", "staff", "visitor"])), "PT-0001",
        age_years=draw(st.sampled_from([None, 12, 15, 17, 30])), detained=draw(_yes_no),
        capacity_concern=draw(_yes_no), care_support_needs=draw(_yes_no),
        could_become_pregnant=draw(_yes_no), police_wishes=draw(st.sampled_from([None, "yes", "no", "undecided"])))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(person=_people(), answer=st.sampled_from([*ANSWERS, "police_wishes", "age_years"]),
       camhs_ward=st.booleans(), types=st.sampled_from([("SS-SA",), ("SS-RAPE",), ("SS-HAR-V",)]))
def test_blanking_any_answer_never_removes_a_mandatory_action(camhs, person, answer, camhs_ward, types):
    store, actors, wards, camhs_id = camhs
    if person.age_years is not None:
        person = replace(person, under_18=person.age_years < 18)
    ward = camhs_id if camhs_ward else wards["Oak Ward"]
    flags = ("physical_contact", "penetration_alleged", "penile_penetration_or_ejaculation") \
        if types == ("SS-RAPE",) else ()
    full = _submit(store, actors["lead"], _draft(ward, affected=person, types=types, flags=flags))
    blank_person = replace(person, **{answer: None, **({"under_18": None} if answer == "age_years" else {})})
    blanked = _submit(store, actors["lead"], _draft(ward, affected=blank_person, types=types, flags=flags))
    missing = _kinds(full) - _kinds(blanked)
    assert not missing, f"blanking {answer} removed {sorted(missing)}"


def test_every_yes_no_answer_is_on_the_person_draft():
    names = {f.name for f in fields(PersonDraft)}
    assert set(ANSWERS) | {"police_wishes"} <= names
