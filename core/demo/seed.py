"""Create or fill a demo store with synthetic incidents (core layer). Used by `main.py demo` and the GUI's
first run when no store is configured. Incidents are inserted in bulk, with their rule-driven actions and
an audit event each, in batches of one transaction."""

from __future__ import annotations

import json
import random
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update

from core.clock import to_db, utcnow
from core.db.models import Incident, IncidentType, PersonInvolved, SafeguardingAction, User, Ward
from core.db.store import Store, is_store, unit_of_work
from core.demo.synthetic import spread_over_year, synthetic_incident
from core.dto import Actor
from core.rules import evaluate, load_rules
from core.security import audit
from core.security.permissions import ADMINISTRATOR, NURSE, SAFEGUARDING_LEAD, WARD_MANAGER
from core.services import accounts
from core.services.incidents import HARM_ORDER, facts_for, police_referred_clause
from core.taxonomy import derive_pair, derive_pd09, load_taxonomy, needs_harm_confirmation

DEMO_WARDS = (("Oak Ward", "female", "adult_acute"), ("Elm Ward", "male", "adult_acute"),
              ("Willow Ward", "mixed", "psychiatric_intensive_care"))
DEMO_ACCOUNTS = (("nurse", NURSE, (0,)), ("manager", WARD_MANAGER, (0, 1, 2)), ("lead", SAFEGUARDING_LEAD, ()),)
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
            admin_password=password, **extra)
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
    """Bulk-insert `count` synthetic incidents spread over the last 12 months and every demo ward."""
    if actor.role != ADMINISTRATOR:
        from core.errors import PermissionDenied

        raise PermissionDenied("Only an administrator can generate demo data.")
    rng = random.Random(seed)
    rules, tax = load_rules(), load_taxonomy()
    now = utcnow()
    with unit_of_work(store, write=False) as session:
        ward_ids = list(session.scalars(select(Ward.id).order_by(Ward.id)))
        reporters = list(session.scalars(select(User.id).where(User.role != ADMINISTRATOR).order_by(User.username)))
        start = session.scalar(select(func.count()).select_from(Incident)) or 0
    reporters = reporters or [actor.user_id]
    times = spread_over_year(rng, count, now)
    pools: dict[int, list[str]] = {w: [] for w in ward_ids}
    done = 0
    while done < count:
        chunk = times[done:done + BATCH]
        incident_rows, type_rows, people_rows, action_rows = [], [], [], []
        with unit_of_work(store) as session:
            for offset, occurred in enumerate(chunk):
                number = start + done + offset + 1
                ward_id = ward_ids[number % len(ward_ids)]
                draft = synthetic_incident(rng, ward_id, occurred, pools[ward_id])
                reported = occurred + timedelta(minutes=rng.randrange(5, 180))
                age_days = (now - occurred).days
                status = ("closed" if age_days > 60 and rng.random() < 0.85 else
                          "in_review" if age_days > 7 and rng.random() < 0.6 else "submitted")
                incident_id = str(uuid.UUID(int=rng.getrandbits(128)))
                affected = [p for p in draft.people if p.role == "affected"]
                phys = max((p.harm_physical for p in affected), key=HARM_ORDER.__getitem__)
                psych = max((p.harm_psychological for p in affected), key=HARM_ORDER.__getitem__)
                confirm = needs_harm_confirmation(draft.types, [(p.harm_physical, p.harm_psychological)
                                                                for p in affected], draft.flags)
                incident_rows.append(dict(
                    id=incident_id, reference=f"LAN-{occurred.year}-D{number:06d}", ward_id=ward_id,
                    reporter_id=reporters[number % len(reporters)], status=status, occurred_at=to_db(occurred),
                    occurred_precision=draft.occurred_precision, shift=draft.shift, location=draft.location,
                    reported_at=to_db(reported), description=draft.description,
                    immediate_actions=draft.immediate_actions, flags=json.dumps(list(draft.flags)),
                    pair=derive_pair({"role": p.role, "type": p.person_type} for p in draft.people),
                    harm_physical=phys, harm_psychological=psych, pd09=derive_pd09(phys, psych),
                    restricted=any(p.role == "alleged_perpetrator" and p.person_type == "staff"
                                   for p in draft.people),
                    harm_confirmation_needed=confirm and status != "closed", feedback_note="",
                    type_codes=" ".join(sorted(set(draft.types))),
                    taxonomy_version=tax.version, rules_version=getattr(rules, "version", None), version=1,
                    created_at=to_db(reported), updated_at=to_db(reported), submitted_at=to_db(reported),
                    closed_at=to_db(reported + timedelta(days=30)) if status == "closed" else None))
                type_rows += [dict(incident_id=incident_id, code=c) for c in draft.types]
                people_rows += [dict(
                    incident_id=incident_id, position=i, role=p.role, person_type=p.person_type,
                    local_ref=p.local_ref, sex=p.sex, age_years=p.age_years, age_band=p.age_band,
                    detained=p.detained, capacity_concern=p.capacity_concern,
                    care_support_needs=p.care_support_needs, police_wishes=p.police_wishes,
                    harm_physical=p.harm_physical, harm_psychological=p.harm_psychological, linked_user_id=None)
                    for i, p in enumerate(draft.people)]
                for action in evaluate(facts_for(draft, reported), rules):
                    # Most past-due work was done; a few recent actions are left overdue, as on a real ward.
                    overdue_days = (now - action.due).total_seconds() / 86400
                    finished = status == "closed" or (overdue_days > 7 and rng.random() < 0.995) or (
                        overdue_days > 0 and rng.random() < 0.7)
                    action_rows.append(dict(
                        incident_id=incident_id, rule_id=action.rule_id, title=action.title,
                        guidance=action.guidance, why=action.why, source=action.source,
                        owner_role=action.owner_role, owner_label=action.owner_label or "", assigned_user_id=None,
                        mandatory=action.mandatory, deadline_kind=action.deadline_kind, due_at=to_db(action.due),
                        status="done" if finished else "open", note="Done (synthetic demo data)." if finished else "",
                        reference="", completed_at=to_db(min(action.due, now)) if finished else None,
                        completed_by=None, created_at=to_db(reported)))
            session.execute(insert(Incident), incident_rows)
            session.execute(insert(IncidentType), type_rows)
            session.execute(insert(PersonInvolved), people_rows)
            session.execute(insert(SafeguardingAction), action_rows)
            # The police-referral summary, by the same definition the services use (migration 0006).
            session.execute(update(Incident).where(Incident.id.in_([row["id"] for row in incident_rows]),
                                                   police_referred_clause()).values(police_referred=True))
            for row in incident_rows:
                audit.record(session, actor, "incident.create", entity_type="incident", entity_id=row["id"],
                             detail={"demo": True, "reference": row["reference"]})
            session.commit()
        done += len(chunk)
    return done
