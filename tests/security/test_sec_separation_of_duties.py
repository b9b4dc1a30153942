"""Issue 13 item 1: an administrator cannot give themselves incident content. Granting or raising a role that
reads incidents, and resetting such an account's password, waits for a safeguarding lead (or, while there is
none, the recovery key holder) to approve it; the administrator never holds a password that opens it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.db import audit
from core.db.models import AccessRequest, AuditEvent
from core.db.store import unit_of_work
from core.errors import NotFound, PermissionDenied, ValidationError, WrongPassword
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts, incidents
from tests.core.helpers_common import draft

ADMIN_CHOSEN = "admin chose this one 31"  # synthetic
WAITING = "waiting for the safeguarding lead"


def _restricted_incident(fresh) -> str:
    """A submitted restricted incident (a staff member named as alleged perpetrator): only leads and managers."""
    d = draft(fresh.wards["Oak Ward"], perpetrator_type="staff", linked_user_id=fresh.actors["nurse2"].user_id)
    detail = incidents.create_draft(fresh.store, fresh.actors["nurse"], d)
    incidents.submit(fresh.store, fresh.actors["nurse"], detail.incident_id)
    return detail.incident_id


def _events(store, action: str, user_id: str) -> list[AuditEvent]:
    """The events of `action` about one account (the template store's own accounts were approved too)."""
    with unit_of_work(store, write=False) as session:
        assert audit.verify_chain(session) == []
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity_id == user_id)
                               .order_by(AuditEvent.id)).all()


def test_admin_creating_a_lead_with_a_password_cannot_sign_in_as_it(fresh, engine):
    admin = fresh.actors["admin"]
    new = accounts.create_user(fresh.store, admin, username="lead2", role="safeguarding_lead", password=ADMIN_CHOSEN,
                               must_change=False)
    assert new.temporary_password == "" and new.user.access_pending and new.request_id
    # On a server the account has no login at all until a lead approves, so no password is even tried against it.
    with pytest.raises(WrongPassword, match=WAITING if engine == "sqlcipher" else "not right"):
        accounts.sign_in(fresh.folder, "lead2", ADMIN_CHOSEN)
    temp = accounts.decide_access_request(fresh.store, fresh.actors["lead"], new.request_id, approve=True)
    with pytest.raises(WrongPassword) as refused:  # the password the administrator chose never opens it
        accounts.sign_in(fresh.folder, "lead2", ADMIN_CHOSEN)
    assert WAITING not in str(refused.value)
    store, lead2 = accounts.sign_in(fresh.folder, "lead2", temp)
    fresh.extra.append(store)
    assert lead2.must_change_password
    with pytest.raises(NotFound):  # nothing readable on the temporary password, which the approver saw
        incidents.get_incident(store, lead2, _restricted_incident(fresh))


def test_a_lead_whose_password_was_reset_decides_nothing_until_approved(fresh, password):
    admin, lead = fresh.actors["admin"], fresh.actors["lead"]
    assert accounts.reset_password(fresh.store, admin, lead.user_id) is None  # no password for the administrator
    with pytest.raises(WrongPassword, match=WAITING):  # nothing readable until approved: not even by its owner
        accounts.sign_in(fresh.folder, "lead", password)
    with pytest.raises(PermissionDenied):  # an approver waiting for approval decides nothing
        accounts.decide_access_request(fresh.store, lead, 1, approve=True)
    (request,) = _pending(fresh.store)
    with pytest.raises(PermissionDenied):  # and never a request about their own account
        accounts.decide_access_request(fresh.store, lead, request.id, approve=True)
    assert [r.status for r in _pending(fresh.store)] == ["pending"]


@pytest.mark.sqlcipher_only("the recovery key is the embedded store's; on a server the schema owner approves "
                            "the first lead (tests/pg/test_pg_accounts.py)")
def test_admin_resetting_a_leads_password_gets_nothing_that_opens_it(fresh, password):
    admin, lead = fresh.actors["admin"], fresh.actors["lead"]
    incident_id = _restricted_incident(fresh)
    assert accounts.reset_password(fresh.store, admin, lead.user_id) is None  # no password for the administrator
    with pytest.raises(WrongPassword, match=WAITING):  # nothing readable until approved: not even by its owner
        accounts.sign_in(fresh.folder, "lead", password)
    (request,) = _pending(fresh.store)
    # the only lead is waiting, so the recovery key holder approves it, and is the one shown the new password
    temp = accounts.approve_with_recovery_key(fresh.store, fresh.recovery, request.id)
    with pytest.raises(WrongPassword):
        accounts.sign_in(fresh.folder, "lead", password)
    store, signed = accounts.sign_in(fresh.folder, "lead", temp)
    fresh.extra.append(store)
    signed = accounts.change_password(store, signed, temp, "a fresh synthetic passphrase 5")
    assert incidents.get_incident(store, signed, incident_id).restricted
    (_first, approved) = _events(fresh.store, "access.approve", lead.user_id)  # first: the template's own
    assert approved.username == "recovery-key" and approved.user_id is None


def _pending(store) -> list[AccessRequest]:
    with unit_of_work(store, write=False) as session:
        return session.scalars(select(AccessRequest).where(AccessRequest.status == "pending")).all()


def test_approval_by_a_lead_is_audited_who_asked_for_whom_when_who_approved(fresh):
    admin, lead = fresh.actors["admin"], fresh.actors["lead"]
    new = accounts.create_user(fresh.store, admin, username="nurse3", role="nurse", ward_ids=[fresh.wards["Oak Ward"]])
    (shown,) = accounts.list_access_requests(fresh.store, lead)
    assert (shown.request_id, shown.kind, shown.username, shown.role, shown.requested_by) == (
        new.request_id, "grant_role", "nurse3", "nurse", "admin")
    assert shown.requested_at
    with pytest.raises(PermissionDenied):  # an administrator cannot approve, nor can a nurse or a manager
        accounts.decide_access_request(fresh.store, admin, new.request_id, approve=True)
    for name in ("nurse", "manager"):
        with pytest.raises(PermissionDenied):
            accounts.list_access_requests(fresh.store, fresh.actors[name])
    accounts.decide_access_request(fresh.store, lead, new.request_id, approve=True)
    (asked,) = _events(fresh.store, "access.request", new.user.user_id)
    assert (asked.user_id, asked.entity_id) == (admin.user_id, new.user.user_id)
    (approved,) = _events(fresh.store, "access.approve", new.user.user_id)
    detail = json.loads(approved.detail)
    assert (approved.user_id, approved.username, approved.entity_id) == (lead.user_id, "lead", new.user.user_id)
    assert (detail["requested_by"], detail["requested_by_username"], detail["role"]) == (admin.user_id, "admin",
                                                                                         "nurse")
    assert detail["requested_at"] == shown.requested_at
    with pytest.raises(Exception, match="not waiting"):  # decided once only
        accounts.decide_access_request(fresh.store, lead, new.request_id, approve=False)


def test_raising_a_nurse_to_lead_waits_and_a_refusal_leaves_the_nurse_as_they_were(fresh, password):
    admin, nurse = fresh.actors["admin"], fresh.actors["nurse"]
    info = accounts.set_role(fresh.store, admin, nurse.user_id, "safeguarding_lead")
    assert info.role == "nurse" and info.access_pending
    with pytest.raises(WrongPassword, match=WAITING):
        accounts.sign_in(fresh.folder, "nurse", password)
    (request,) = accounts.list_access_requests(fresh.store, fresh.actors["lead"])
    assert request.kind == "raise_role" and request.role == "safeguarding_lead"
    assert accounts.decide_access_request(fresh.store, fresh.actors["lead"], request.request_id, False) is None
    store, again = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    assert again.role == "nurse"
    assert len(_events(fresh.store, "access.refuse", nurse.user_id)) == 1


def test_a_refused_new_account_is_switched_off(fresh):
    new = accounts.create_user(fresh.store, fresh.actors["admin"], username="nurse4", role="nurse",
                               password=ADMIN_CHOSEN)
    accounts.decide_access_request(fresh.store, fresh.actors["lead"], new.request_id, approve=False)
    with pytest.raises(WrongPassword, match="switched off|password"):
        accounts.sign_in(fresh.folder, "nurse4", ADMIN_CHOSEN)
    if hasattr(fresh.store, "slots"):  # the embedded store: no key slot either
        assert fresh.store.slots.slot_for_username("nurse4") is None


def test_the_first_lead_is_approved_with_the_recovery_key_and_only_while_there_is_no_lead(tmp_path, password):
    folder = tmp_path / "store"
    store, admin, recovery = accounts.init_store(folder, ods_code="RXX", wards=["Oak Ward"], admin_username="admin",
                                                 admin_password=password, kdf=MINIMUM_KDF)
    first = accounts.create_user(store, admin, username="lead", role="safeguarding_lead", password=ADMIN_CHOSEN)
    later = accounts.create_user(store, admin, username="nurse", role="nurse")
    store.close()
    with pytest.raises(ValidationError, match="recovery key"):
        accounts.approve_with_recovery_key(folder, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", first.request_id)
    temp = accounts.approve_with_recovery_key(folder, recovery, first.request_id)
    with pytest.raises(WrongPassword):
        accounts.sign_in(folder, "lead", ADMIN_CHOSEN)
    store, lead = accounts.sign_in(folder, "lead", temp)
    try:
        assert lead.must_change_password
        lead = accounts.change_password(store, lead, temp, "first approver passphrase 8")
        with pytest.raises(PermissionDenied, match="safeguarding lead"):  # now the lead approves, not the key
            accounts.approve_with_recovery_key(store, recovery, later.request_id)
        assert accounts.decide_access_request(store, lead, later.request_id, approve=True)
    finally:
        store.close()


def test_demo_stores_are_exempt(tmp_path):
    from core import paths

    store, admin, _ = accounts.init_store(tmp_path / "demo", ods_code="RXX", wards=["Oak Ward"],
                                          admin_username="admin", admin_password=paths.DEMO_PASSWORD,
                                          kdf=MINIMUM_KDF, demo=True)
    try:
        new = accounts.create_user(store, admin, username="nurse", role="nurse", password=paths.DEMO_PASSWORD,
                                   must_change=False)
        assert new.request_id is None and not new.user.access_pending
    finally:
        store.close()
