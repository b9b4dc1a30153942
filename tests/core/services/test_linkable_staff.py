"""accounts.linkable_staff on a real encrypted store: who a reporter may link, who may ask, and what never leaks."""

from __future__ import annotations

import dataclasses

import pytest

from core.dto import StaffChoice
from core.errors import NotFound, PermissionDenied
from core.services import accounts, incidents
from tests.core.manager_helpers import draft


@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    return store, actors, wards


def usernames(choices) -> list[str]:
    return [c.username for c in choices]


def test_a_nurse_sees_their_ward_and_the_leads_but_not_themselves_admins_or_other_wards(env):
    store, actors, wards = env
    choices = accounts.linkable_staff(store, actors["nurse"], wards["Oak Ward"])
    assert usernames(choices) == ["lead", "manager", "nurse2"]
    assert all(isinstance(c, StaffChoice) for c in choices)
    labels = {c.username: c.label for c in choices}
    assert labels == {"lead": "lead (Safeguarding lead)", "manager": "manager (Ward manager)",
                      "nurse2": "nurse2 (Nurse)"}


def test_elm_ward_lists_its_own_manager(env):
    store, actors, wards = env
    assert usernames(accounts.linkable_staff(store, actors["manager_elm"], wards["Elm Ward"])) == ["lead"]
    assert usernames(accounts.linkable_staff(store, actors["lead"], wards["Elm Ward"])) == ["manager_elm"]
    assert usernames(accounts.linkable_staff(store, actors["lead"], wards["Oak Ward"])) == [
        "manager", "nurse", "nurse2"]


def test_only_plain_account_facts_leave(env):
    store, actors, wards = env
    fields = {f.name for f in dataclasses.fields(StaffChoice)}
    assert fields == {"user_id", "label", "username", "role"}
    known = {a.user_id for a in actors.values()}
    for choice in accounts.linkable_staff(store, actors["manager"], wards["Oak Ward"]):
        assert choice.user_id in known
        assert "password" not in repr(choice).lower() and "slot" not in repr(choice).lower()


def test_switched_off_accounts_and_display_names(env):
    store, actors, wards = env
    admin = actors["admin"]
    accounts.deactivate_user(store, admin, actors["nurse2"].user_id)
    accounts.create_user(store, admin, username="bank.nurse", role="nurse", ward_ids=[wards["Oak Ward"]],
                         display_name="Bank Nurse Test")
    choices = accounts.linkable_staff(store, actors["nurse"], wards["Oak Ward"])
    assert usernames(choices) == ["bank.nurse", "lead", "manager"]
    assert choices[0].label == "bank.nurse: Bank Nurse Test (Nurse)"


def test_permission_and_ward_are_checked(env):
    store, actors, wards = env
    with pytest.raises(PermissionDenied):
        accounts.linkable_staff(store, actors["admin"], wards["Oak Ward"])
    with pytest.raises(PermissionDenied):
        accounts.linkable_staff(store, actors["nurse"], wards["Elm Ward"])
    with pytest.raises(NotFound):
        accounts.linkable_staff(store, actors["lead"], 999)


def test_a_linked_ward_manager_cannot_read_the_report(env):
    """The point of the list: the chosen account really loses sight of the report."""
    store, actors, wards = env
    manager = next(c for c in accounts.linkable_staff(store, actors["nurse"], wards["Oak Ward"])
                   if c.username == "manager")
    created = incidents.create_draft(store, actors["nurse"], draft(wards["Oak Ward"], perpetrator="staff",
                                                                   linked_user_id=manager.user_id))
    detail = incidents.submit(store, actors["nurse"], created.incident_id)
    assert detail.restricted
    with pytest.raises(NotFound):
        incidents.get_incident(store, actors["manager"], detail.incident_id)
    assert incidents.get_incident(store, actors["lead"], detail.incident_id).draft.people[1].linked_user_id == \
        manager.user_id
