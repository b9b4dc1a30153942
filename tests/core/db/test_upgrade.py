"""Stores written by earlier releases open in this one: each fixture store upgrades to head (REL-08)."""

from __future__ import annotations

import shutil
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import func, select

from core.db import migrate
from core.db.models import Incident, SafeguardingAction, User
from core.db.store import open_with_key, read_slots, unit_of_work
from core.services import accounts, maintenance

STORES = Path(__file__).resolve().parents[2] / "fixtures" / "stores"
FIXTURE_PASSWORD = "fixture store only 0001"  # documented in tests/fixtures/stores/README.md
FIXTURES = sorted(STORES.glob("rev-*"))


def test_there_is_a_fixture_store_for_the_first_release():
    assert [f.name for f in FIXTURES][:1] == ["rev-0001"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_an_old_store_upgrades_to_head_opens_and_passes_check(fixture, tmp_path):
    folder = tmp_path / fixture.name
    shutil.copytree(fixture, folder)  # never upgrade the committed copy
    revision = fixture.name.removeprefix("rev-")

    with mock.patch.object(migrate, "upgrade", lambda engine: None):  # open it as it was written
        slots = read_slots(folder)  # not through sign-in, which reads users with the newest model's columns
        old = open_with_key(folder, slots, slots.slot_for_username("admin").unwrap(FIXTURE_PASSWORD))
    try:
        assert migrate.current_revision(old.engine) == revision
    finally:
        old.close()

    store, admin = accounts.sign_in(folder, "admin", FIXTURE_PASSWORD)
    try:
        assert migrate.current_revision(store.engine) == migrate.head_revision()
        assert all(r.ok for r in maintenance.check_store(store, admin))
        with unit_of_work(store, write=False) as session:
            assert session.scalar(select(func.count()).select_from(Incident)) == 3
            assert session.scalar(select(func.count()).select_from(User)) == 4
            assert session.scalar(select(func.count()).select_from(SafeguardingAction)) > 0
    finally:
        store.close()

    nurse_store, nurse = accounts.sign_in(folder, "nurse", FIXTURE_PASSWORD)
    try:
        from core.services import incidents

        mine = incidents.list_my_incidents(nurse_store, nurse)
        assert len(mine) == 3
        assert incidents.get_incident(nurse_store, nurse, mine[0].incident_id).incident_id == mine[0].incident_id
    finally:
        nurse_store.close()
