"""Foundation benchmarks (pytest-benchmark; no timing assertions, never collected by the normal run).

    python3 bootstrap.py bench          # or: .venv/bin/pytest tests/bench --benchmark-only -k store

Figures and the machine they were measured on: docs/performance.md.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import func, select

from core.clock import now_db, to_db, utcnow
from core.db import audit
from core.db.engine import DB_FILE_NAME
from core.db.models import AuditHead, Incident, IncidentType, PersonInvolved, SafeguardingAction, User, Ward
from core.db.store import open_with_key, read_slots, unit_of_work
from core.dto import IncidentDraft, PersonDraft
from core.security.keyslots import DEFAULT_KDF, derive_wrapping_key
from core.services import accounts, incidents

BENCH_PASSWORD = "bench-only passphrase 42"  # synthetic; the same as tests/bench/conftest.py


# ----- unlock ---------------------------------------------------------------------------------------------


def test_bench_unlock_default_argon2id(benchmark, bench_default_kdf_store):
    """Sign-in at the shipped Argon2id cost: unwrap the slot, open and check the store, audit the sign-in."""

    def unlock():
        store, _actor = accounts.sign_in(bench_default_kdf_store, "nurse", BENCH_PASSWORD)
        store.close()

    benchmark.extra_info["kdf"] = DEFAULT_KDF.as_dict()
    benchmark.pedantic(unlock, rounds=5, iterations=1, warmup_rounds=1)


def test_bench_argon2id_default_derivation_only(benchmark):
    benchmark.extra_info["kdf"] = DEFAULT_KDF.as_dict()
    benchmark.pedantic(derive_wrapping_key, args=("bench passphrase", b"\x00" * 16, DEFAULT_KDF),
                       rounds=5, iterations=1)


# ----- saving one incident: app path vs raw sqlcipher3 -------------------------------------------------------


def _ids(store):
    with unit_of_work(store, write=False) as session:
        ward = session.scalar(select(Ward.id).order_by(Ward.id))
        user = session.scalar(select(User.id).where(User.username == "nurse"))
    return ward, user


def _rows(ward_id: int, user_id: str) -> dict:
    """One incident with one type, two people, four actions (the same rows for both paths)."""
    now, iid = now_db(), str(uuid.uuid4())
    due = to_db(utcnow() + timedelta(hours=4))
    return {
        "incident": dict(id=iid, reference="B" + uuid.uuid4().hex[:18], ward_id=ward_id, reporter_id=user_id,
                         status="submitted", occurred_at=now, occurred_precision="exact", shift="day",
                         location="lounge", reported_at=now, description="Synthetic benchmark incident. " * 8,
                         immediate_actions="Separated (synthetic).", flags="[]", pair="patient_on_patient",
                         harm_physical="none", harm_psychological="low", pd09=1, restricted=False,
                         harm_confirmation_needed=False, feedback_note="", taxonomy_version=1, rules_version=1,
                         version=1, created_at=now, updated_at=now, submitted_at=now, closed_at=None),
        "type": dict(incident_id=iid, code="SS-HAR-V"),
        "people": [dict(incident_id=iid, position=i, role=role, person_type="patient", local_ref=f"BP{i}",
                        sex="female", age_years=30 + i, age_band=None, detained=True, capacity_concern=False,
                        care_support_needs=False, police_wishes=None, harm_physical="none",
                        harm_psychological="low", linked_user_id=None)
                   for i, role in enumerate(("affected", "alleged_perpetrator"))],
        "actions": [dict(incident_id=iid, rule_id=f"bench-{i}", title=f"Synthetic action {i}", guidance="g", why="w",
                         source="s", owner_role="nurse", owner_label="", assigned_user_id=None, mandatory=True,
                         deadline_kind="hours", due_at=due, status="open", note="", reference="",
                         completed_at=None, completed_by=None, created_at=now) for i in range(4)],
    }


def test_bench_save_incident_app_path(benchmark, bench_min_kdf_store):
    """ORM unit of work: BEGIN IMMEDIATE, 8 rows, the hash-chained audit row, COMMIT (synchronous=FULL)."""
    store, actor = accounts.sign_in(bench_min_kdf_store, "nurse", BENCH_PASSWORD)
    ward_id, user_id = _ids(store)

    def save():
        rows = _rows(ward_id, user_id)
        with unit_of_work(store) as session:
            session.add(Incident(**rows["incident"]))
            session.flush()
            session.add(IncidentType(**rows["type"]))
            session.add_all(PersonInvolved(**p) for p in rows["people"])
            session.add_all(SafeguardingAction(**a) for a in rows["actions"])
            audit.record(session, actor, "incident.create", entity_type="incident", entity_id=rows["incident"]["id"])
            session.commit()

    try:
        benchmark.pedantic(save, rounds=300, iterations=1, warmup_rounds=10)
    finally:
        store.close()


def test_bench_save_incident_raw_sqlcipher(benchmark, bench_min_kdf_store):
    """The same rows (and an equivalent audit row and head update) through bare sqlcipher3, same pragmas."""
    slots = read_slots(bench_min_kdf_store)
    key = slots.slot_for_username("nurse").unwrap(BENCH_PASSWORD)
    conn = sqlcipher.connect(str(bench_min_kdf_store / DB_FILE_NAME), isolation_level=None)
    for pragma in (f"key = \"x'{key.hex()}'\"", "cipher_log_level = NONE", "temp_store = MEMORY",
                   "foreign_keys = ON", "busy_timeout = 15000", "journal_mode = WAL", "synchronous = FULL"):
        conn.execute(f"PRAGMA {pragma}")
    key.zero()
    ward_id = conn.execute("SELECT min(id) FROM wards").fetchone()[0]
    user_id = conn.execute("SELECT id FROM users WHERE username = 'nurse'").fetchone()[0]

    def insert(table, row):
        cols = ", ".join(row)
        conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    def save():
        rows = _rows(ward_id, user_id)
        conn.execute("BEGIN IMMEDIATE")
        insert("incidents", rows["incident"])
        insert("incident_types", rows["type"])
        for p in rows["people"]:
            insert("people_involved", p)
        for a in rows["actions"]:
            insert("safeguarding_actions", a)
        last_id, prev = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
        event = dict(id=last_id + 1, at=now_db(), user_id=user_id, username="nurse", action="incident.create",
                     entity_type="incident", entity_id=rows["incident"]["id"], outcome="ok", workstation="bench",
                     detail="{}", prev_hash=prev)
        event["hash"] = hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
        insert("audit_events", event)
        conn.execute("UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1", (event["id"], event["hash"]))
        conn.execute("COMMIT")

    try:
        benchmark.pedantic(save, rounds=300, iterations=1, warmup_rounds=10)
    finally:
        conn.close()


def test_bench_create_draft_service(benchmark, bench_min_kdf_store):
    """For information: the full create_draft service (validation, reference number, two people, audit)."""
    store, actor = accounts.sign_in(bench_min_kdf_store, "nurse", BENCH_PASSWORD)
    ward_id = actor.ward_ids[0]
    draft = IncidentDraft(ward_id=ward_id, types=("SS-HAR-V",), occurred_at=utcnow() - timedelta(hours=1),
                          location="lounge", description="Synthetic benchmark incident.",
                          people=(PersonDraft(role="affected", person_type="patient", local_ref="BX1",
                                              harm_physical="none", harm_psychological="low"),
                                  PersonDraft(role="alleged_perpetrator", person_type="patient")))
    try:
        benchmark.pedantic(incidents.create_draft, args=(store, actor, draft), rounds=100, iterations=1,
                           warmup_rounds=5)
    finally:
        store.close()


# ----- opening a big store -----------------------------------------------------------------------------------


def test_bench_open_100k_store_sign_in(benchmark, bench_big_store):
    """Sign in (RFC 9106 minimum Argon2id) to a store of 100,000 incidents and count them."""
    folder, count = bench_big_store

    def open_and_count():
        store, _actor = accounts.sign_in(folder, "manager", BENCH_PASSWORD)
        try:
            with unit_of_work(store, write=False) as session:
                assert session.scalar(select(func.count()).select_from(Incident)) >= count
        finally:
            store.close()

    benchmark.extra_info["incidents"] = count
    benchmark.extra_info["db_bytes"] = (folder / DB_FILE_NAME).stat().st_size
    benchmark.pedantic(open_and_count, rounds=5, iterations=1, warmup_rounds=1)


def test_bench_open_100k_store_without_kdf(benchmark, bench_big_store):
    """The database part of opening alone: key already unwrapped; engine, checks, schema version, slot seal."""
    folder, count = bench_big_store
    slots = read_slots(folder)
    raw_key = slots.slot_for_username("manager").unwrap(BENCH_PASSWORD).raw()

    def open_only():
        from core.security.keys import KeyHolder

        store = open_with_key(folder, slots, KeyHolder(raw_key))
        with unit_of_work(store, write=False) as session:
            session.scalar(select(AuditHead.last_id))
        store.close()

    benchmark.extra_info["incidents"] = count
    benchmark.pedantic(open_only, rounds=10, iterations=1, warmup_rounds=1)
