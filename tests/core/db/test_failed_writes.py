"""REL-02: a failed write (disk full, read-only, locked by another program) rolls back cleanly and says so.

Each service that writes (start a report, change it, submit it, complete an action, autosave the form)
is called on a real encrypted store while SQLite refuses the write (tests/core/fault_helpers.py). It must
raise the one plain LanternError for that fault, whose text carries no SQL, no parameters and no patient
text; the store must be exactly as it was (every row of every table), with an intact audit chain and a
clean store check, and not be marked damaged; and once the fault is gone the very same call succeeds.
No patient text may reach the log file or any log record along the way. Synthetic data only.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from core import logs
from core.db import audit
from core.db.engine import DB_FILE_NAME
from core.db.models import FormDraft, Incident, SafeguardingAction
from core.db.store import unit_of_work
from core.dto import FormState
from core.errors import StorageFailure
from core.services import accounts, drafts, incidents, maintenance
from tests.core.fault_helpers import EXPECTED, FAULTS, refused_writes
from tests.core.manager_helpers import draft, report

pytestmark = pytest.mark.sqlcipher_only("faults of the store's own file on this PC; a server's faults are tests/pg/test_pg_faults.py")

MARKER = "REL02-MARKER-7731"  # stands for patient text: it must never leave the store
MARKED = f"Synthetic: {MARKER} said something made up at the hatch."
FORBIDDEN = (MARKER, "SQL", "INSERT", "UPDATE", "SELECT", "parameters", "sqlcipher", "sqlite", "audit_events",
             "form_drafts", "incidents (", "Traceback", "disk is full", "readonly database", "database is locked")

SQLITE_SAYS = {"disk_full": "database or disk is full", "read_only": "attempt to write a readonly database",
               "write_locked": "database is locked", "file_locked": "database is locked"}


@pytest.fixture
def log_file(monkeypatch, caplog):
    """This test's own rotating log file (as the app sets it up), plus every logger captured at DEBUG."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    monkeypatch.setattr(logger, "handlers", [])
    path = logs.setup_logging(logging.DEBUG)
    for name in ("", "lantern", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield path
    for handler in logger.handlers:
        handler.close()


def _everything(store) -> dict[str, list[tuple]]:
    """Every row of every table, so 'nothing half-written' means nothing at all changed."""
    with unit_of_work(store, write=False) as session:
        tables = session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")).all()
        return {t: sorted(map(tuple, session.execute(text(f'SELECT * FROM "{t}"'))), key=repr) for t in tables}


def _payload(description: str) -> FormState:
    return FormState(replace(draft(1), description=description), step=4, time_text="21:40")


# Each operation: set-up on the healthy store (returns what the call needs), the call itself, and the
# check, after the fault is gone and the call is repeated, that it really did its work.

def _create(store, actors, wards):
    return lambda: incidents.create_draft(store, actors["nurse"], replace(draft(wards["Oak Ward"]), description=MARKED))


def _create_done(store, result):
    with unit_of_work(store, write=False) as session:
        assert session.get(Incident, result.incident_id).description == MARKED


def _update(store, actors, wards):
    created = incidents.create_draft(store, actors["nurse"], draft(wards["Oak Ward"]))
    return lambda: incidents.update_incident(store, actors["nurse"], created.incident_id,
                                             replace(draft(wards["Oak Ward"]), description=MARKED))


def _submit(store, actors, wards):
    created = incidents.create_draft(store, actors["nurse"], replace(draft(wards["Oak Ward"]), description=MARKED))
    return lambda: incidents.submit(store, actors["nurse"], created.incident_id)


def _submit_done(store, result):
    assert result.status == "submitted" and result.actions
    with unit_of_work(store, write=False) as session:
        assert session.get(Incident, result.incident_id).status == "submitted"


def _complete(store, actors, wards):
    detail = report(store, actors["nurse"], wards["Oak Ward"])
    assert detail.actions, "the synthetic report should need at least one safeguarding action"
    action_id = detail.actions[0].action_id
    return lambda: incidents.complete_action(store, actors["nurse"], action_id, note=MARKED)


def _complete_done(store, result):
    with unit_of_work(store, write=False) as session:
        row = session.get(SafeguardingAction, result.action_id)
        assert (row.status, row.note) == ("done", MARKED)


def _autosave_first(store, actors, _wards):
    return lambda: drafts.save_form(store, actors["nurse"], _payload(MARKED))


def _autosave_again(store, actors, _wards):
    drafts.save_form(store, actors["nurse"], _payload("Synthetic: the first few words."))
    return lambda: drafts.save_form(store, actors["nurse"], _payload(MARKED))


def _autosave_done(store, result):
    with unit_of_work(store, write=False) as session:
        saved = session.scalars(select(FormDraft)).all()
    assert len(saved) == 1 and MARKER in saved[0].payload


OPERATIONS = {
    "create_draft": (_create, _create_done),
    "update_incident": (_update, _create_done),
    "submit": (_submit, _submit_done),
    "complete_action": (_complete, _complete_done),
    "autosave_first": (_autosave_first, _autosave_done),
    "autosave_again": (_autosave_again, _autosave_done),
}


def assert_plain(err: BaseException, expected: type, key_hex: str) -> None:
    """The exact LanternError class, and nothing in it a user (or a log) must not see."""
    assert type(err) is expected, f"{type(err).__name__}: {err}"
    shown = f"{err!s}\n{err!r}\n{err.args!r}"
    for bad in (*FORBIDDEN, key_hex):
        assert bad.lower() not in shown.lower(), f"{bad!r} in the message: {shown}"
    assert str(err) == expected().message  # the class's own plain-English sentence, word for word
    # A traceback printed anywhere shows no database exception (with its SQL) behind it.
    assert err.__cause__ is None and err.__suppress_context__


def assert_fault_was_real(err: BaseException, fault: str) -> None:
    """The refusal really came from SQLite, for the reason the fault names (not from some other failure)."""
    underneath = err.__context__
    reason = str(getattr(underneath, "orig", underneath)).lower()
    assert SQLITE_SAYS[fault] in reason, reason


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_failed_write_rolls_back_says_so_and_works_once_the_fault_is_gone(make_store, log_file, caplog,
                                                                          fault, operation):
    store, actors, _recovery, wards = make_store()
    setup, done = OPERATIONS[operation]
    call = setup(store, actors, wards)
    key_hex = store.key.hex()
    before = _everything(store)

    with refused_writes(store, fault):
        with pytest.raises(EXPECTED[fault]) as caught:
            call()
        with pytest.raises(EXPECTED[fault]):  # and again: a refused write leaves nothing in the way
            call()

    assert_plain(caught.value, EXPECTED[fault], key_hex)
    assert_fault_was_real(caught.value, fault)
    assert not store.damaged, "a refused write is not damage: the store must not turn read-only"
    after = _everything(store)
    changed = sorted(t for t in before if before[t] != after.get(t))
    assert not changed, f"rows changed in {changed}"
    with unit_of_work(store, write=False) as session:
        assert audit.verify_chain(session) == []

    result = call()  # the fault is gone: the same call now works
    done(store, result)
    results = maintenance.check_store(store, actors["admin"])
    assert all(r.ok for r in results), results

    for handler in logging.getLogger(logs.LOGGER_NAME).handlers:
        handler.flush()
    file_text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in log_file.parent.glob("*.log*"))
    records = caplog.text + "\n".join(f"{r.msg!s} {r.args!r}" for r in caplog.records)
    for where, haystack in (("log file", file_text), ("log records", records)):
        assert MARKER not in haystack, f"patient text in the {where}"
        assert key_hex not in haystack, f"key material in the {where}"


@pytest.mark.skipif(shutil.which("chattr") is None or os.geteuid() != 0,
                    reason="needs chattr and root to make the file immutable (root ignores plain permissions)")
def test_a_read_only_store_file_refuses_sign_in_in_plain_words_and_changes_nothing(make_store, password):
    """A store file made read-only (here immutable, which binds even root) cannot take the sign-in's audit row:
    sign-in says so plainly, without calling the store damaged, and leaves the file as it was."""
    store, _actors, _recovery, _wards = make_store()
    store.close()
    db = store.folder / DB_FILE_NAME
    before = db.read_bytes()
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("this file system does not support immutable files")
    try:
        with pytest.raises(StorageFailure) as refused:
            accounts.sign_in(store.folder, "nurse", password)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert refused.value.message == accounts.CANNOT_WRITE_AT_SIGN_IN
    assert db.read_bytes() == before
    again, _nurse = accounts.sign_in(store.folder, "nurse", password)  # writable again: all is well
    again.close()
