"""Moving a ward's embedded store into the trust's server (core layer; issue 16 item 7).

`move_store` is run by the ward store's safeguarding lead (who reads every record in it, so moving it reveals
nothing to anyone new) with the server's owner role (which may write every table). It copies the wards, the
accounts, the incidents with their people, types, actions and kept versions, the autosaved forms and the whole
audit trail, in ONE server transaction: a failure leaves nothing on the server, so running it again simply
starts again; a store moved once is refused (its store id is recorded in `store_moves`).

- Accounts keep their ids, so every record still names its people. None can sign in on the server until the
  server's safeguarding lead approves a password reset for it (requests are made here), so each person sets a
  new password; administrators of the ward store are kept switched off (the trust has its own). A username
  already used on the server gets the ward's name added (`nurse` → `nurse.oak-ward`), and the report says so.
- References keep their text where the server has not used it; a reference already taken there (every ward
  store starts at 00001) gets the server's next one, and the report lists old → new.
- The old audit trail goes into `audit_archive` exactly as it was (its hash chain stays verifiable), and the
  server's own trail gets one `store.moved_in` event carrying the old trail's newest id and hash.
- Export marks are not moved: the trust's exports start afresh.

Afterwards the counts are read back from the server and returned beside the counts read from the ward store.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from core.clock import now_db
from core.db import audit, migrate
from core.db.models import (
    AccessRequest,
    AuditArchive,
    AuditEvent,
    FormDraft,
    Incident,
    IncidentType,
    IncidentVersion,
    Organisation,
    PersonInvolved,
    SafeguardingAction,
    StoreMove,
    User,
    UserWard,
    Ward,
)
from core.db.queries.incidents import next_reference
from core.db.server import make_server_engine
from core.db.store import unit_of_work, workstation_name
from core.errors import LanternError, PermissionDenied, ValidationError
from core.security.permissions import CLINICAL, SAFEGUARDING_LEAD
from core.services import accounts

CHILDREN = (IncidentType, PersonInvolved, SafeguardingAction, IncidentVersion)


@dataclass
class MoveReport:
    moved: dict[str, int]
    on_server: dict[str, int]
    renamed: dict[str, str] = field(default_factory=dict)
    new_references: dict[str, str] = field(default_factory=dict)
    waiting_for_approval: list[str] = field(default_factory=list)


def _rows(session, model) -> list[dict]:
    table = model.__table__
    return [dict(r._mapping) for r in session.execute(select(table))]


def _read_ward_store(folder: Path, username: str, password: str):
    """Everything in the ward store, read by its lead, who stays signed in until the move is over."""
    store, actor = accounts.sign_in(folder, username, password)
    try:
        if actor.role != SAFEGUARDING_LEAD or actor.must_change_password:
            raise PermissionDenied("Only the ward store's safeguarding lead may move it to the server: they read "
                                   "every record in it already.")
        with unit_of_work(store, write=False) as session:
            problems = audit.verify_chain(session)
            if problems:
                raise ValidationError({"store": "The ward store's audit trail does not check out (" + problems[0] +
                                                "), so it cannot be moved. Run `lantern check` and call IT."})
            data = {model: _rows(session, model) for model in (Organisation, Ward, User, UserWard, Incident,
                                                               *CHILDREN, FormDraft, AccessRequest, AuditEvent)}
        return data, store, actor
    except LanternError:
        accounts.sign_out(store, actor)
        raise


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:20] or "ward"


def _counts(data: dict) -> dict[str, int]:
    return {"wards": len(data[Ward]), "accounts": len(data[User]), "incidents": len(data[Incident]),
            "people": len(data[PersonInvolved]), "actions": len(data[SafeguardingAction]),
            "versions": len(data[IncidentVersion]), "audit events": len(data[AuditEvent])}


def _move_wards(session, data: dict) -> dict[int, int]:
    taken = {n.casefold() for n in session.scalars(select(Ward.name))}
    clash = sorted(w["name"] for w in data[Ward] if w["name"].casefold() in taken)
    if clash:
        raise ValidationError({"wards": "The server already has a ward called " + ", ".join(clash) + ". Rename the "
                                        "ward in the ward store or on the server first."})
    new_ids = {}
    for ward in data[Ward]:
        new_ids[ward["id"]] = session.execute(insert(Ward.__table__).values(
            {k: v for k, v in ward.items() if k != "id"}).returning(Ward.__table__.c.id)).scalar_one()
    return new_ids


def _move_accounts(session, data: dict, ward_ids: dict[int, int], report: MoveReport, mover_id: str) -> None:
    _insert_accounts(session, data, report)
    if data[UserWard]:
        session.execute(insert(UserWard.__table__), [{"user_id": uw["user_id"], "ward_id": ward_ids[uw["ward_id"]]}
                                                     for uw in data[UserWard]])
    for request in data[AccessRequest]:  # the history goes too; a request still waiting is replaced by the reset
        row = {k: v for k, v in request.items() if k != "id"}
        if row["status"] == "pending":
            row.update(status="withdrawn", decided_at=now_db())
        session.execute(insert(AccessRequest.__table__).values(row))
    for user in data[User]:
        if _reads_content(user):
            session.add(AccessRequest(user_id=user["id"], requested_by=mover_id, kind="reset_password",
                                      role=user["role"], created_at=now_db(), status="pending"))
    session.flush()


def _reads_content(user: dict) -> bool:
    return user["role"] in CLINICAL and bool(user["active"])


def _insert_accounts(session, data: dict, report: MoveReport) -> None:
    taken = set(session.scalars(select(User.username)))
    first_ward = _slug(data[Ward][0]["name"]) if data[Ward] else "ward"
    for user in data[User]:
        name = user["username"]
        if name in taken:
            report.renamed[name] = name = f"{name}.{first_ward}"[:64]
        content = _reads_content(user)
        session.execute(insert(User.__table__).values(
            {**{k: v for k, v in user.items() if k != "login_role"}, "username": name,
             "active": content, "must_change_password": True, "access_pending": content}))
        if content:
            report.waiting_for_approval.append(name)


def _free_reference(session, inc: dict, used: set[str]) -> str:
    """The server's next reference for the incident's year that neither the server nor a moved record holds."""
    year = int((inc["created_at"] or now_db())[:4])
    new = next_reference(session, year)
    while new in used:
        new = next_reference(session, year)
    used.add(new)
    return new


PLAIN_REFERENCE = re.compile(r"^LAN-(\d{4})-(\d{5,})$")


def _keep_numbers_ahead(session, references: list[str]) -> None:
    """The server's next numbers come after every moved reference that kept its number (migration 0021)."""
    highest: dict[int, int] = {}
    for reference in references:
        match = PLAIN_REFERENCE.match(reference or "")
        if match:
            year, number = int(match.group(1)), int(match.group(2))
            highest[year] = max(highest.get(year, 0), number)
    for year, number in highest.items():
        session.execute(text("SELECT lantern_number_floor(:y, :n)"), {"y": year, "n": number})


def _move_incidents(session, data: dict, ward_ids: dict[int, int], report: MoveReport) -> None:
    on_server = set(session.scalars(select(Incident.reference)))
    used = on_server | {inc["reference"] for inc in data[Incident]}
    for inc in data[Incident]:
        row = {**inc, "ward_id": ward_ids[inc["ward_id"]]}
        if row["reference"] in on_server:
            row["reference"] = report.new_references[inc["reference"]] = _free_reference(session, inc, used)
        session.execute(insert(Incident.__table__).values(row))
    _keep_numbers_ahead(session, [inc["reference"] for inc in data[Incident]])
    for model in (*CHILDREN, FormDraft):  # the server numbers their integer keys afresh; nothing refers to them
        rows = [{k: v for k, v in r.items() if not (k == "id" and model is not IncidentType)} for r in data[model]]
        if rows:
            session.execute(insert(model.__table__), rows)


def _count(session, column, keys) -> int:
    return session.scalar(select(func.count()).where(column.in_(list(keys) or [None])))


def _server_counts(session, data: dict, ward_ids: dict[int, int]) -> dict[str, int]:
    """The same counts as `_counts`, read back from the server after the move."""
    ids = [i["id"] for i in data[Incident]]
    return {"wards": _count(session, Ward.id, ward_ids.values()),
            "accounts": _count(session, User.id, (u["id"] for u in data[User])),
            "incidents": _count(session, Incident.id, ids), "people": _count(session, PersonInvolved.incident_id, ids),
            "actions": _count(session, SafeguardingAction.incident_id, ids),
            "versions": _count(session, IncidentVersion.incident_id, ids),
            "audit events": _count(session, AuditArchive.store_id, [data[Organisation][0]["store_id"]])}


def move_store(folder: Path, username: str, password: str, *, to: str, owner: str, owner_password: str,
               ca_file: str = "") -> MoveReport:
    """Move the ward store in `folder` into the server at `to` (see the module's docstring)."""
    data, ward_store, lead = _read_ward_store(Path(folder), username, password)
    try:
        report = _move(data, lead.username, to, owner, owner_password, ca_file)
        with unit_of_work(ward_store) as session:  # the ward store's own trail says where its records went
            audit.record(session, lead, "store.moved_out", entity_type="store", detail=report.moved)
            session.commit()
        return report
    finally:
        accounts.sign_out(ward_store, lead)


def _move(data: dict, mover: str, to: str, owner: str, owner_password: str, ca_file: str) -> MoveReport:
    org = data[Organisation][0]
    report = MoveReport(moved=_counts(data), on_server={})
    engine = make_server_engine(to, username=owner, password=owner_password, ca_file=ca_file)
    try:
        if migrate.current_revision(engine) != migrate.head_revision():
            raise ValidationError({"server": "The server has not been set up for Lantern (or runs another version): "
                                             "run `lantern server init` there first."})
        with Session(engine) as session:
            done = session.get(StoreMove, org["store_id"])
            if done is not None:
                raise ValidationError({"store": f"This ward store was moved to the server on {done.moved_at[:10]}. "
                                                "It cannot be moved twice."})
            mover_id = next(u["id"] for u in data[User] if u["username"] == mover)
            ward_ids = _move_wards(session, data)
            _move_accounts(session, data, ward_ids, report, mover_id)
            _move_incidents(session, data, ward_ids, report)
            events = data[AuditEvent]
            if events:
                session.execute(insert(AuditArchive.__table__), [{**e, "store_id": org["store_id"]} for e in events])
            head = events[-1] if events else {"id": 0, "hash": audit.GENESIS}
            session.add(StoreMove(store_id=org["store_id"], ods_code=org["ods_code"], moved_by=mover,
                                  moved_at=now_db(), counts=json.dumps(report.moved), old_head_id=head["id"],
                                  old_head_hash=head["hash"]))
            audit.record(session, None, "store.moved_in", entity_type="store", entity_id=org["store_id"],
                         detail={"old_head_id": head["id"], "old_head_hash": head["hash"], **report.moved},
                         username=mover, workstation=workstation_name())
            session.commit()
            report.on_server = _server_counts(session, data, ward_ids)
    except sa_exc.DBAPIError:
        raise LanternError("The server refused the move, so nothing was moved; the ward store is unchanged. Ask "
                           "the database administrator to check the server's log, then run it again.") from None
    finally:
        engine.dispose()
    return report
