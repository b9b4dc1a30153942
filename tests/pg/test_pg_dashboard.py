"""The dashboard's figures on a server store agree with a plain count of the same rows (issue 16 items 6 and 10).

The dashboard counts in SQL over the covering indexes, under row-level security, with its own settings for the
transaction (core/services/reports.py, migration 0022). Here a random trust store is written by the owner, and
every figure of a ward manager's ward dashboard and of the lead's trust-wide one is counted again in Python from
the rows themselves: totals, every breakdown, months in Europe/London, repeat individuals, police referrals,
harm confirmations pending, open and overdue actions.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import LONDON, UTC, to_db
from core.db.models import Incident, PersonInvolved, SafeguardingAction, User, Ward
from core.db.queries.incidents import people_refs
from core.db.server import make_server_engine
from core.services import reports
from core.taxonomy import load_taxonomy

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PERIOD = (date(2026, 1, 1), date(2026, 12, 31))


def _random_incidents(session: Session, rng: random.Random, wards: list[int], reporter: str) -> list[Incident]:
    tax = load_taxonomy()
    start = datetime(2025, 12, 20, tzinfo=UTC)
    incidents = []
    for n in range(300):
        # Every hour of the day, so 23:00-23:59 UTC (the next London day in summer time) and the period's edges
        # in both time zones are all drawn.
        occurred = start + timedelta(minutes=rng.randrange(60 * 24 * 390))
        types = sorted(set(rng.sample(tax.type_codes[:6], rng.randint(1, 2))))
        incident = Incident(
            id=f"dash-{n:04d}", reference=f"LAN-D-{n:04d}", ward_id=rng.choice(wards), reporter_id=reporter,
            status=rng.choice(["draft", "submitted", "in_review", "closed"]), occurred_at=to_db(occurred),
            shift=rng.choice(tax.codes("shifts")), location=rng.choice(tax.codes("locations")[:4]),
            pair="patient_on_patient", harm_physical=rng.choice(tax.codes("harm_physical")[:3]),
            harm_psychological=rng.choice(tax.codes("harm_psychological")[:3]), restricted=rng.random() < 0.2,
            harm_confirmation_needed=rng.random() < 0.3, police_referred=rng.random() < 0.4,
            type_codes=" ".join(types), created_at=to_db(NOW), updated_at=to_db(NOW))
        session.add(incident)
        incidents.append(incident)
    session.flush()
    for incident in incidents:
        people = []
        for position in range(rng.randint(0, 3)):
            # A small pool of references, so the same person turns up in several incidents (and sometimes twice in
            # one), and references seen in one incident only.
            people.append(PersonInvolved(incident_id=incident.id, position=position,
                                         role=rng.choice(["affected", "alleged_perpetrator"]), person_type="patient",
                                         local_ref=rng.choice(["", "P-1", "P-2", "P-3", f"U-{incident.id}"])))
        session.add_all(people)
        # the summary of its people that the services keep (migration 0024)
        incident.people_refs = people_refs((p.local_ref, p.role, p.person_type) for p in people)
        for _ in range(rng.randint(0, 2)):
            session.add(SafeguardingAction(
                incident_id=incident.id, rule_id="dash", title="Check", owner_role="ward_manager",
                status=rng.choice(["open", "done"]), due_at=to_db(NOW + timedelta(hours=rng.randint(-500, 500))),
                created_at=to_db(NOW)))
    session.flush()
    return incidents


def _expected(session: Session, incidents: list[Incident]) -> dict:
    """Every figure, counted in Python from the incidents the dashboard should count."""
    ids = {i.id for i in incidents}
    months = Counter(datetime.fromisoformat(i.occurred_at).astimezone(LONDON).strftime("%Y-%m") for i in incidents)
    people: dict[tuple, set] = {}
    for p in session.scalars(select(PersonInvolved).where(PersonInvolved.incident_id.in_(ids))):
        if p.local_ref:
            people.setdefault((p.local_ref, p.role, p.person_type), set()).add(p.incident_id)
    actions = [a for a in session.scalars(select(SafeguardingAction).where(SafeguardingAction.incident_id.in_(ids)))
               if a.status == "open"]
    return {"total": len(incidents), "type": Counter(c for i in incidents for c in i.type_codes.split()),
            "month": months, "shift": Counter(i.shift for i in incidents),
            "location": Counter(i.location for i in incidents), "phys": Counter(i.harm_physical for i in incidents),
            "psych": Counter(i.harm_psychological for i in incidents),
            "repeats": sorted((*key, len(found)) for key, found in people.items() if len(found) > 1),
            "police": sum(i.police_referred for i in incidents),
            "pending": sum(i.harm_confirmation_needed for i in incidents),
            "open": len(actions), "overdue": sum(a.due_at < to_db(NOW) for a in actions)}


def _figures(board: reports.Dashboard) -> dict:
    def counts(buckets) -> Counter:
        return Counter({b.code: b.count for b in buckets if b.count})

    return {"total": board.total, "type": counts(board.by_type),
            "month": Counter({f"{b.code}": b.count for b in board.by_month if b.count}),
            "shift": counts(board.by_shift), "location": counts(board.by_location),
            "phys": counts(board.harm_physical), "psych": counts(board.harm_psychological),
            "repeats": sorted((p.local_ref, p.role, p.person_type, p.incidents) for p in board.repeat_people),
            "police": board.police_referred, "pending": board.harm_confirmation_pending,
            "open": board.open_actions, "overdue": board.overdue_actions}


def _in_period(incident: Incident) -> bool:
    day = datetime.fromisoformat(incident.occurred_at).astimezone(LONDON).date()
    return incident.status != "draft" and PERIOD[0] <= day <= PERIOD[1]


def test_the_dashboard_agrees_with_a_plain_count_on_a_random_trust_store(pg_server, pg_database, trust):
    sign_in, oak = trust
    owner = make_server_engine(pg_server.url(pg_database), username=pg_server.superuser, password=pg_server.password)
    try:
        with Session(owner) as session, session.begin():
            nurse = session.scalar(select(User.id).where(User.username == "nurse"))
            wards = list(session.scalars(select(Ward.id)))
            incidents = _random_incidents(session, random.Random(16), wards, nurse)
            counted = [i for i in incidents if _in_period(i)]
            want_ward = _expected(session, [i for i in counted if i.ward_id == oak])
            want_trust = _expected(session, counted)
    finally:
        owner.dispose()
    store, manager = sign_in("manager")
    ward_board = reports.dashboard(store, manager, ward_id=oak, date_from=PERIOD[0], date_to=PERIOD[1], now=NOW)
    assert want_ward["total"] > 50 and want_ward["repeats"]  # the draw really exercises every figure
    assert _figures(ward_board) == want_ward
    store, lead = sign_in("lead")
    trust_board = reports.dashboard(store, lead, date_from=PERIOD[0], date_to=PERIOD[1], now=NOW)
    assert want_trust["total"] > want_ward["total"]
    assert _figures(trust_board) == want_trust


def test_a_trust_wide_export_is_read_and_recorded_a_chunk_at_a_time(pg_server, pg_database, trust, tmp_path, monkeypatch):
    """The server keeps an export's selection in its transaction, reads it a chunk at a time (exports.CHUNK) and
    records it a slice at a time (export_choice.LATEST_SLICE): every incident of every slice is recorded with the
    version it was exported at, so none is flagged for re-export until it changes, and then exactly that one is."""
    from core.services import export_choice, exports

    monkeypatch.setattr(exports, "CHUNK", 7)
    monkeypatch.setattr(export_choice, "LATEST_SLICE", 5)
    sign_in, _oak = trust
    owner = make_server_engine(pg_server.url(pg_database), username=pg_server.superuser, password=pg_server.password)
    try:
        with Session(owner, expire_on_commit=False) as session, session.begin():
            nurse = session.scalar(select(User.id).where(User.username == "nurse"))
            incidents = _random_incidents(session, random.Random(7), list(session.scalars(select(Ward.id))), nurse)
        store, lead = sign_in("lead")
        result = exports.export_incidents(store, lead, "nrls-csv", out_path=tmp_path / "trust.csv")
        assert result.incident_count == sum(i.status != "draft" for i in incidents) > 3 * 7
        assert exports.incidents_needing_reexport(store, lead, "nrls-csv") == []
        changed = next(i.id for i in incidents if i.status != "draft")
        with owner.begin() as conn:
            conn.execute(Incident.__table__.update().where(Incident.id == changed)
                         .values(version=Incident.version + 1))
        assert [f.incident_id for f in exports.incidents_needing_reexport(store, lead, "nrls-csv")] == [changed]
    finally:
        owner.dispose()
