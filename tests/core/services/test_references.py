"""Incident references come from a counter row per year, never parsed back from text (issue 11, blocker 1).

The built-in demo store's references look like `LAN-2026-D000300`; before the counter, the next reference was
`int()` of the highest one, so no nurse could send a report on the README's own demo store.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import paths
from core.clock import utcnow
from core.db.models import Incident, ReferenceCounter
from core.db.store import unit_of_work
from core.dto import IncidentDraft, PersonDraft
from core.services import accounts, incidents

STORES = Path(__file__).resolve().parents[2] / "fixtures" / "stores"
FIXTURE_PASSWORD = "fixture store only 0001"  # documented in tests/fixtures/stores/README.md


def _report(ward_id: int) -> IncidentDraft:
    return IncidentDraft(
        ward_id=ward_id, types=("SS-HAR-V",), occurred_at=utcnow() - timedelta(hours=1), occurred_precision="exact",
        location="lounge",
        people=(PersonDraft(role="affected", person_type="patient", local_ref="T1",
                            harm_physical="none", harm_psychological="low"),
                PersonDraft(role="alleged_perpetrator", person_type="patient")),
        description="Synthetic test incident.")


def _year() -> int:
    return utcnow().year


def test_a_nurse_sends_a_report_on_the_built_in_demo_store(demo_store_folder):
    store, nurse = accounts.sign_in(demo_store_folder, "nurse", paths.DEMO_PASSWORD)
    try:
        with unit_of_work(store, write=False) as session:
            demo_refs = list(session.scalars(select(Incident.reference)))
        assert len(demo_refs) == paths.DEMO_INCIDENTS
        assert all("-D" in ref for ref in demo_refs)  # the demo's own shape, which broke the old parser

        detail = incidents.create_draft(store, nurse, _report(nurse.ward_ids[0]))
        sent = incidents.submit(store, nurse, detail.incident_id)

        assert sent.reference == f"LAN-{_year()}-00001"
        assert sent.status == "submitted"
        with unit_of_work(store, write=False) as session:
            assert set(demo_refs) < set(session.scalars(select(Incident.reference)))  # both shapes coexist
    finally:
        store.close()


def test_references_follow_one_another(fresh, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    made = [incidents.create_draft(store, nurse, _report(fresh.wards["Oak Ward"])).reference for _ in range(3)]
    assert made == [f"LAN-{_year()}-{n:05d}" for n in (1, 2, 3)]


@pytest.mark.sqlcipher_only("the embedded store's counter table; a server numbers from a sequence per year (migration 0021, tests/pg/test_pg_concurrency.py)")
def test_a_number_already_taken_by_another_path_is_skipped_never_reused(fresh, password):
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    ward = fresh.wards["Oak Ward"]
    first = incidents.create_draft(store, nurse, _report(ward))
    with unit_of_work(store) as session:  # a counter set back, as after restoring a hand-edited store
        session.get(ReferenceCounter, _year()).last_number = 0
        session.commit()
    again = incidents.create_draft(store, nurse, _report(ward))
    assert first.reference == f"LAN-{_year()}-00001"
    assert again.reference == f"LAN-{_year()}-00002"


@pytest.mark.parametrize("fixture", sorted(STORES.glob("rev-*")), ids=lambda f: f.name)
def test_a_store_from_an_earlier_release_takes_new_reports_after_upgrading(fixture, tmp_path):
    folder = tmp_path / fixture.name
    shutil.copytree(fixture, folder)
    store, nurse = accounts.sign_in(folder, "nurse", FIXTURE_PASSWORD)
    try:
        with unit_of_work(store, write=False) as session:
            before = set(session.scalars(select(Incident.reference)))
        detail = incidents.create_draft(store, nurse, _report(nurse.ward_ids[0]))
        assert detail.reference not in before
        assert detail.reference.startswith(f"LAN-{_year()}-")
    finally:
        store.close()


def test_the_upgrade_starts_each_year_after_its_highest_plain_reference(fresh, password):
    """Migration 0007 seeds the counters from references of the plain shape only, per year."""
    from alembic import command

    from core.db import migrate
    from core.db.engine import writer

    nurse_store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(nurse_store)
    made = [incidents.create_draft(nurse_store, nurse, _report(fresh.wards["Oak Ward"])) for _ in range(3)]
    store = fresh.store
    with unit_of_work(store) as session:  # references as earlier releases and the demo wrote them
        for inc, ref in zip(made, ("LAN-2025-00041", "LAN-2025-D000900", "LAN-2024-00007"), strict=True):
            session.get(Incident, inc.incident_id).reference = ref
        session.commit()

    cfg = migrate._config()
    with writer(store.engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    migrate.upgrade(store.engine)

    with unit_of_work(store, write=False) as session:
        counters = {c.year: c.last_number for c in session.scalars(select(ReferenceCounter))}
    assert counters == {2025: 41, 2024: 7}
