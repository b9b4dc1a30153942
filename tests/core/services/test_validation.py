"""The checks on a draft are driven by the taxonomy's code lists (core/services/validation.py): every code in a
list is accepted, anything else gets that field's plain message, and submitting asks for the fast-path minimum."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.dto import IncidentDraft, PersonDraft
from core.services import incidents
from core.services.validation import DRAFT_CODES, PERSON_CODES, PERSON_CODES_AFTER_AGE, validate_draft
from core.taxonomy import load_taxonomy
from core.taxonomy.model import SECTIONS

TAX = load_taxonomy()
PERSON = PersonDraft(role="affected", person_type="patient")


def test_every_table_names_a_taxonomy_code_list_and_a_real_field():
    for _field, section, message in DRAFT_CODES + PERSON_CODES + PERSON_CODES_AFTER_AGE:
        assert section in SECTIONS and message
    assert {f for f, _s, _m in DRAFT_CODES} <= set(IncidentDraft.__dataclass_fields__)
    assert {f for f, _s, _m in PERSON_CODES + PERSON_CODES_AFTER_AGE} <= set(PersonDraft.__dataclass_fields__)


@pytest.mark.parametrize(("field", "section", "message"), DRAFT_CODES, ids=[f for f, _s, _m in DRAFT_CODES])
def test_a_draft_field_takes_every_code_in_its_list_and_nothing_else(field, section, message):
    many = field in ("types", "flags")
    for code in TAX.codes(section):
        draft = IncidentDraft(ward_id=1, **{field: (code,) if many else code})
        assert field not in validate_draft(draft, for_submit=False), code
    draft = IncidentDraft(ward_id=1, **{field: ("NOT-A-CODE",) if many else "NOT-A-CODE"})
    assert validate_draft(draft, for_submit=False)[field] == message


@pytest.mark.parametrize(("field", "section", "message"), PERSON_CODES + PERSON_CODES_AFTER_AGE,
                         ids=[f for f, _s, _m in PERSON_CODES + PERSON_CODES_AFTER_AGE])
def test_a_persons_answer_takes_every_code_in_its_list_and_nothing_else(field, section, message):
    for code in TAX.codes(section):
        draft = IncidentDraft(ward_id=1, people=(replace(PERSON, **{field: code}),))
        assert "people.1" not in validate_draft(draft, for_submit=False), code
    draft = IncidentDraft(ward_id=1, people=(replace(PERSON, **{field: "NOT-A-CODE"}),))
    assert validate_draft(draft, for_submit=False)["people.1"] == f"Person 1: {message}"


def test_role_and_type_are_needed_but_other_answers_may_be_blank():
    blank = IncidentDraft(ward_id=1, people=(PersonDraft(role="", person_type="patient"),))
    assert validate_draft(blank, for_submit=False)["people.1"] == "Person 1: choose their role."
    assert validate_draft(IncidentDraft(ward_id=1, people=(PERSON,)), for_submit=False) == {}


def test_an_empty_draft_saves_but_cannot_be_sent_and_every_missing_answer_is_named():
    empty = IncidentDraft(ward_id=1)
    assert validate_draft(empty, for_submit=False) == {}
    assert set(validate_draft(empty, for_submit=True)) == {
        "types", "occurred_at", "location", "people", "people.perpetrator", "description"}


def test_the_services_keep_the_name_the_form_calls():
    assert incidents.validate_draft is validate_draft
