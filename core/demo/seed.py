"""Create or fill a demo store with synthetic incidents (core layer). Used by `main.py demo` and the GUI's
first run when no store is configured. Incidents are inserted in bulk, with their rule-driven actions and
an audit event each, in batches of one transaction."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update

from core.clock import LONDON, to_db, utcnow
from core.db import audit
from core.db.models import Incident, IncidentType, PersonInvolved, SafeguardingAction, User, Ward
from core.db.queries.incidents import people_refs, police_referred_clause
from core.db.store import Store, is_store, unit_of_work
from core.demo.synthetic import plan, spread_over_year, synthetic_incident
from core.dto import Actor
from core.rules import evaluate, load_rules
from core.security.permissions import ADMINISTRATOR, NURSE, SAFEGUARDING_LEAD, WARD_MANAGER
from core.services import accounts
from core.services.incident_mapping import HARM_ORDER, facts_for
from core.services.reports import default_period
from core.taxonomy import derive_pair, derive_pd09, is_restricted, load_taxonomy, needs_harm_confirmation

DEMO_WARDS = (("Oak Ward", "female", "adult_acute"), ("Elm Ward", "male", "adult_acute"),
              ("Willow Ward", "mixed", "psychiatric_intensive_care"), ("Rowan Ward", "mixed", "camhs"))
DEMO_ACCOUNTS = (("nurse", NURSE, (0,)), ("manager", WARD_MANAGER, (0, 1, 2, 3)), ("lead", SAFEGUARDING_LEAD, ()),)
CHILDREN_SERVICES = {"camhs"}  # child and adolescent wards: their patients are under 18
DEMO_ODS = "RDEMO"
BATCH = 500


def create_or_fill_demo(folder: Path, password: str, *, incidents: int, seed: int = 2018, kdf=None) -> str:
    """Create the store (one account per role, all with `password`) if missing, then add incidents."""
    if incidents < 0 or incidents > 1_000_000:
        from core.errors import ValidationError

        raise ValidationError({"incidents": "Choose between 0 and 1,000,000 incidents."})
    folder = Path(folder)
    if not is_store(folder):
        extra = {"kdf": kdf} if kdf else {}
        store, admin, _recovery = accounts.init_store(
            folder, ods_code=DEMO_ODS, wards=[w[0] for w in DEMO_WARDS], admin_username="admin",
            admin_password=password, demo=True, **extra)
        with unit_of_work(store) as session:
            for name, sex, service in DEMO_WARDS:
                ward = session.scalar(select(Ward).where(Ward.name == name))
                ward.sex_designation, ward.service_type = sex, service
            session.commit()
        by_name = {w.name: w.ward_id for w in accounts.list_wards(store, admin)}
        ward_ids = [by_name[w[0]] for w in DEMO_WARDS]
        for username, role, wards in DEMO_ACCOUNTS:
            accounts.create_user(store, admin, username=username, role=role, ward_ids=[ward_ids[i] for i in wards],
                                 password=password, must_change=False)
        created = "Created the demo store"
    else:
        store, admin = accounts.sign_in(folder, "admin", password)
        created = "Opened the demo store"
    try:
        added = add_synthetic_incidents(store, admin, incidents, seed=seed)
    finally:
        store.close()
    return (f"{created} in {folder} and added {added} synthetic incidents. "
            "Accounts: nurse, manager, lead, admin (all with the password you gave).")


def add_synthetic_incidents(store: Store, actor: Actor, count: int, *, seed: int = 2018) -> int:
    """Bulk-insert `count` synthetic incidents in the CQC 2018 mix, spread over the dashboard's default
    12 months and every ward (a ward with service type `camhs` gets under-18 patients)."""
    if actor.role != ADMINISTRATOR:
        from core.errors import PermissionDenied

        raise PermissionDenied("Only an administrator can generate demo data.")
    run = _prepare(store, actor, seed)
    kinds = plan(run.rng, count)
    first_day, _today = default_period()
    times = spread_over_year(run.rng, count, run.now, datetime.combine(first_day, time(), LONDON))
    for first in range(0, count, BATCH):
        batch = _Batch()
        for offset, (occurred, kind) in enumerate(zip(times[first:first + BATCH], kinds[first:first + BATCH],
                                                      strict=True)):
            _add_incident(run, batch, run.start + first + offset + 1, occurred, kind)
        _write(store, actor, batch)
    return count


@dataclass
class _Run:
    """What every incident of one seeding run shares."""

    rng: random.Random
    rules: object
    taxonomy_version: str
    now: datetime
    wards: list[tuple[int, bool, str | None]]  # (ward id, its patients are children, its service type)
    reporters: list[str]
    start: int  # incidents already in the store
    pools: dict[int, list[str]]  # patient references per ward, so some people recur


@dataclass
class _Batch:
    incidents: list[dict] = field(default_factory=list)
    types: list[dict] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)


def _prepare(store: Store, actor: Actor, seed: int) -> _Run:
    rules = load_rules()
    with unit_of_work(store, write=False) as session:
        wards = [(ward_id, service in CHILDREN_SERVICES, service)
                 for ward_id, service in session.execute(select(Ward.id, Ward.service_type).order_by(Ward.id))]
        reporters = list(session.scalars(select(User.id).where(User.role != ADMINISTRATOR).order_by(User.username)))
        start = session.scalar(select(func.count()).select_from(Incident)) or 0
    return _Run(random.Random(seed), rules, load_taxonomy().version, utcnow(), wards, reporters or [actor.user_id],
                start, {ward_id: [] for ward_id, _children, _service in wards})


def _add_incident(run: _Run, batch: _Batch, number: int, occurred: datetime, kind) -> None:
    rng = run.rng
    ward_id, children, service = run.wards[number % len(run.wards)]
    draft = synthetic_incident(rng, ward_id, occurred, run.pools[ward_id], kind=kind, children=children)
    reported = occurred + timedelta(minutes=rng.randrange(5, 180))
    status = _status(rng, (run.now - occurred).days)
    incident_id = str(uuid.UUID(int=rng.getrandbits(128)))
    people = [_person_row(incident_id, i, p) for i, p in enumerate(draft.people)]
    row = _incident_row(run, draft, incident_id, number, status, reported)
    row["people_refs"] = people_refs((p["local_ref"], p["role"], p["person_type"]) for p in people)
    batch.incidents.append(row)
    batch.types += [dict(incident_id=incident_id, code=c) for c in draft.types]
    batch.people += people
    batch.actions += [_action_row(run, incident_id, action, status, reported)
                      for action in evaluate(facts_for(draft, reported, service), run.rules)]


def _status(rng: random.Random, age_days: int) -> str:
    if age_days > 60 and rng.random() < 0.85:
        return "closed"
    return "in_review" if age_days > 7 and rng.random() < 0.6 else "submitted"


def _incident_row(run: _Run, draft, incident_id: str, number: int, status: str, reported: datetime) -> dict:
    affected = [p for p in draft.people if p.role == "affected"]
    phys = max((p.harm_physical for p in affected), key=HARM_ORDER.__getitem__)
    psych = max((p.harm_psychological for p in affected), key=HARM_ORDER.__getitem__)
    confirm = needs_harm_confirmation(draft.types, [(p.harm_physical, p.harm_psychological) for p in affected],
                                      draft.flags)
    occurred = draft.occurred_at
    return dict(
        id=incident_id, reference=f"LAN-{occurred.year}-D{number:06d}", ward_id=draft.ward_id,
        reporter_id=run.reporters[number % len(run.reporters)], status=status, occurred_at=to_db(occurred),
        occurred_precision=draft.occurred_precision, shift=draft.shift, location=draft.location,
        reported_at=to_db(reported), description=draft.description, immediate_actions=draft.immediate_actions,
        flags=json.dumps(list(draft.flags)),
        pair=derive_pair({"role": p.role, "type": p.person_type} for p in draft.people),
        harm_physical=phys, harm_psychological=psych, pd09=derive_pd09(phys, psych),
        # The services' restriction rule (core/services/incident_mapping.py _derive).
        restricted=is_restricted(draft.types, draft.people),
        harm_confirmation_needed=confirm and status != "closed", feedback_note="",
        type_codes=" ".join(sorted(set(draft.types))), taxonomy_version=run.taxonomy_version,
        rules_version=getattr(run.rules, "version", None), version=1, created_at=to_db(reported),
        updated_at=to_db(reported), submitted_at=to_db(reported),
        closed_at=to_db(reported + timedelta(days=30)) if status == "closed" else None)


def _person_row(incident_id: str, position: int, p) -> dict:
    return dict(incident_id=incident_id, position=position, role=p.role, person_type=p.person_type,
                local_ref=p.local_ref, sex=p.sex, age_years=p.age_years, age_band=p.age_band, detained=p.detained,
                capacity_concern=p.capacity_concern, care_support_needs=p.care_support_needs,
                police_wishes=p.police_wishes, under_18=p.under_18, could_become_pregnant=p.could_become_pregnant,
                harm_physical=p.harm_physical,
                harm_psychological=p.harm_psychological, linked_user_id=None)


def _action_row(run: _Run, incident_id: str, action, status: str, reported: datetime) -> dict:
    # Most past-due work was done; a few recent actions are left overdue, as on a real ward.
    overdue_days = (run.now - action.due).total_seconds() / 86400
    finished = status == "closed" or (overdue_days > 7 and run.rng.random() < 0.995) or (
        overdue_days > 0 and run.rng.random() < 0.7)
    # Finished as the services would allow it: a note of what was done, and a reference where the rule asks.
    reference = f"DEMO-{run.rng.randrange(10000, 99999)}" if finished and action.requires_reference else ""
    return dict(
        incident_id=incident_id, rule_id=action.rule_id, title=action.title, guidance=action.guidance,
        why=action.why, source=action.source, owner_role=action.owner_role, owner_label=action.owner_label or "",
        assigned_user_id=None, mandatory=action.mandatory, deadline_kind=action.deadline_kind,
        due_at=to_db(action.due), status="done" if finished else "open",
        note="Done (synthetic demo data)." if finished else "", reference=reference,
        completed_at=to_db(min(action.due, run.now)) if finished else None, completed_by=None,
        created_at=to_db(reported))


def _write(store: Store, actor: Actor, batch: _Batch) -> None:
    """One batch in one transaction: the rows, the police-referral summary and an audit event each."""
    with unit_of_work(store) as session:
        session.execute(insert(Incident), batch.incidents)
        session.execute(insert(IncidentType), batch.types)
        session.execute(insert(PersonInvolved), batch.people)
        if batch.actions:
            session.execute(insert(SafeguardingAction), batch.actions)
        # The police-referral summary, by the same definition the services use (migration 0006).
        session.execute(update(Incident).where(Incident.id.in_([row["id"] for row in batch.incidents]),
                                               police_referred_clause()).values(police_referred=True))
        for row in batch.incidents:
            audit.record(session, actor, "incident.create", entity_type="incident", entity_id=row["id"],
                         detail={"demo": True, "reference": row["reference"]})
        session.commit()
