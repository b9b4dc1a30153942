"""Ward services: create and list wards, and the staff a reporter may link on one (core layer)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from core.db import audit
from core.db.models import User, UserWard, Ward
from core.db.store import Store, unit_of_work
from core.dto import Actor, StaffChoice, WardInfo
from core.errors import NotFound, ValidationError
from core.security.permissions import NURSE, ROLE_LABELS, SAFEGUARDING_LEAD, WARD_MANAGER, require, require_ward
from core.services.account_rows import clean_ward_name

SEX_DESIGNATIONS = ("female", "male", "mixed")


def create_ward(store: Store, actor: Actor, name: str, *, sex_designation: str = "mixed",
                service_type: str = "adult_acute") -> WardInfo:
    require(actor, "wards.manage")
    name = clean_ward_name(name)
    if sex_designation not in SEX_DESIGNATIONS:
        raise ValidationError({"sex_designation": "Choose female, male or mixed."})
    with unit_of_work(store) as session:
        if session.scalar(select(Ward).where(Ward.name == name)):
            raise ValidationError({"ward": f"There is already a ward called {name}."})
        ward = Ward(name=name, sex_designation=sex_designation, service_type=service_type, active=True)
        session.add(ward)
        session.flush()
        audit.record(session, actor, "ward.create", entity_type="ward", entity_id=str(ward.id))
        session.commit()
        return WardInfo(ward.id, ward.name, ward.sex_designation, ward.service_type, ward.active)


def list_wards(store: Store, actor: Actor) -> list[WardInfo]:
    """Every role may list ward names (they are not patient data)."""
    with unit_of_work(store, write=False) as session:
        return ward_infos(session)


def ward_infos(session) -> list[WardInfo]:
    """Every ward, by name, in the caller's transaction."""
    wards = session.scalars(select(Ward).order_by(Ward.name)).all()
    return [WardInfo(w.id, w.name, w.sex_designation, w.service_type, w.active) for w in wards]


def linkable_staff(store: Store, actor: Actor, ward_id: int) -> list[StaffChoice]:
    """The accounts a reporter may link to a member of staff named in a report on `ward_id`.

    Linking an account hides the report from that account for good (core.services.visibility), so the list is the
    accounts that could otherwise read it or be asked about it: active nurses and ward managers of that ward,
    and every active safeguarding lead (they cover all wards). Left out, on purpose:
    - administrators: they can never open an incident, so linking one would protect nothing, and their
      accounts are for running Lantern, not for ward staff;
    - staff of other wards: they cannot open this ward's incidents, and a long list of strangers is where a
      tired nurse picks the wrong name;
    - the person asking: linking your own account would hide the report from you before you could send it;
    - switched-off accounts: they cannot sign in.
    Anyone who may report an incident on that ward may ask. Only ids, usernames, display names and roles
    leave this function: never password, key-slot or audit data.
    """
    require(actor, "incident.create")
    require_ward(actor, ward_id)
    with unit_of_work(store, write=False) as session:
        if session.get(Ward, ward_id) is None:
            raise NotFound("That ward does not exist.")
        on_ward = select(UserWard.user_id).where(UserWard.ward_id == ward_id)
        users = session.scalars(
            select(User).where(
                User.active.is_(True), User.id != actor.user_id,
                or_(User.role == SAFEGUARDING_LEAD,
                    and_(User.role.in_((NURSE, WARD_MANAGER)), User.id.in_(on_ward))))
            .order_by(User.username)).all()
        choices = []
        for user in users:
            who = f"{user.username}: {user.display_name}" if user.display_name else user.username
            choices.append(StaffChoice(user.id, f"{who} ({ROLE_LABELS[user.role]})", user.username, user.role))
        return choices
