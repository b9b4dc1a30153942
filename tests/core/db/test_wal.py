"""REL-07, the WAL stays bounded: a reader holding an old snapshot blocks `wal_checkpoint(TRUNCATE)`; once it lets
go the checkpoint succeeds and the -wal file is emptied, and locking the store leaves no -wal data behind.
Real encrypted stores, synthetic data only."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text, update

from core.db.engine import BUSY_TIMEOUT_MS, DB_FILE_NAME
from core.db.models import FormDraft
from core.db.store import unit_of_work
from core.dto import FormState
from core.services import accounts, drafts
from tests.core.manager_helpers import draft

pytestmark = pytest.mark.sqlcipher_only("SQLite's write-ahead log")

WRITES = 2000
AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: without a reader in the way the log is reset about here


def wal_size(store) -> int:
    wal = store.folder / f"{DB_FILE_NAME}-wal"
    return wal.stat().st_size if wal.exists() else 0


def test_a_held_reader_blocks_the_checkpoint_and_releasing_it_lets_truncate_empty_the_wal(make_store):
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    payload = FormState(draft(wards["Oak Ward"]))
    assert store.checkpoint()  # start from an empty log
    assert wal_size(store) == 0

    drafts.save_form(store, nurse, payload)  # the row the writes below update

    reader = store.engine.connect()
    try:
        reader.begin()  # BEGIN (deferred) ...
        assert reader.execute(text("SELECT count(*) FROM form_drafts")).scalar() == 1  # ... and a snapshot is held
        for i in range(WRITES):  # 2,000 small writes, each its own BEGIN IMMEDIATE transaction on the real path
            with unit_of_work(store) as session:
                session.execute(update(FormDraft).where(FormDraft.user_id == nurse.user_id)
                                .values(updated_at=f"2026-01-01T00:00:{i:06d}"))
                session.commit()
        page_size = int(reader.exec_driver_sql("PRAGMA page_size").scalar())
        # The automatic checkpoint cannot reset the log past the reader, so it has grown beyond its usual bound.
        assert wal_size(store) > AUTOCHECKPOINT_PAGES * page_size
        assert store.checkpoint() is False  # busy: the reader's snapshot still needs the old pages
        assert wal_size(store) > 0
        assert reader.execute(text("SELECT count(*) FROM form_drafts")).scalar() == 1  # the reader was not disturbed
    finally:
        reader.rollback()
        reader.close()
    assert store.engine.pool.checkedout() == 0

    assert store.checkpoint() is True
    assert wal_size(store) == 0
    with unit_of_work(store, write=False) as session:  # every write survived the checkpoint
        assert session.scalar(text("SELECT updated_at FROM form_drafts")) == f"2026-01-01T00:00:{WRITES - 1:06d}"
        # the checkpoint shortened its own wait only: the pooled connection keeps the usual busy timeout
        assert int(session.scalar(text("PRAGMA busy_timeout"))) == BUSY_TIMEOUT_MS


def test_locking_the_store_leaves_an_empty_wal(make_store):
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    typed = draft(wards["Oak Ward"])
    for i in range(50):
        drafts.save_form(store, nurse, FormState(replace(typed, description=f"Synthetic autosave {i}.")))
    assert wal_size(store) > 0
    accounts.lock(store, actors["administrator"])  # the lock event is written, then the store closes
    assert not store.is_open
    assert wal_size(store) == 0


def test_closing_the_store_leaves_an_empty_wal(make_store):
    store, actors, _recovery, wards = make_store()
    drafts.save_form(store, actors["nurse"], FormState(draft(wards["Oak Ward"])))
    assert wal_size(store) > 0
    store.close()
    assert wal_size(store) == 0
