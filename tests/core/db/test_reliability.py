"""Reliability harnesses on a real store: a writer SIGKILLed 30 times loses no acknowledged record and
leaves an intact store (REL-01); two processes writing 500 incidents each never see "database is
locked" (REL-03). Both run in the normal suite (not marked slow): they are the foundation's promise."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from core.db.models import Incident
from core.db.store import unit_of_work
from core.services import accounts, maintenance
from tests.core.helpers_common import HELPERS, HEX_UUID, PY, REPO, python_env

WRITER = HELPERS / "helpers_writer.py"
KILLS = 30

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="SIGKILL harness is POSIX-only")


class Child:
    """A writer process whose stdout lines are collected by a thread as they arrive."""

    def __init__(self, folder, username, ward_id, count, password, go_file=None):
        args = [PY, str(WRITER), str(folder), username, str(ward_id), str(count)]
        if go_file is not None:
            args.append(str(go_file))
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=python_env(), cwd=REPO)
        self.proc.stdin.write(password + "\n")
        self.proc.stdin.close()
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ready"):
                self.ready.set()
        self.ready.set()

    def acknowledged(self) -> set[str]:
        return {line for line in self.lines if re.fullmatch(HEX_UUID, line)}

    def finish(self, timeout=120) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code, self.proc.stderr.read()


def _incident_ids(store) -> set[str]:
    with unit_of_work(store, write=False) as session:
        return set(session.scalars(select(Incident.id)))


@pytest.mark.sqlcipher_only("processes sharing one store file; on a server: tests/pg/test_pg_concurrency.py and test_pg_faults.py")
def test_sigkill_never_loses_an_acknowledged_incident(fresh, password):
    rng = random.Random(int(os.environ.get("LANTERN_CRASH_SEED", "1801")))
    folder, ward = fresh.folder, fresh.wards["Oak Ward"]
    fresh.store.close()
    acknowledged: set[str] = set()
    kills_while_writing = 0
    started = time.monotonic()
    for _ in range(KILLS):
        child = Child(folder, "nurse", ward, 0, password)
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.8))  # sometimes during start-up, sign-in or the first write
        else:
            # Otherwise once the writer is committing (whatever the machine's speed), at a random moment.
            deadline = time.monotonic() + 60
            while not child.acknowledged() and child.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert child.acknowledged(), "the writer never committed"
            kills_while_writing += 1
            time.sleep(rng.uniform(0.0, 0.15))
        os.kill(child.proc.pid, signal.SIGKILL)
        code, stderr = child.finish()
        assert code == -signal.SIGKILL, stderr[-2000:]
        acknowledged |= child.acknowledged()
    elapsed = time.monotonic() - started
    assert kills_while_writing >= KILLS // 2
    assert len(acknowledged) >= kills_while_writing, f"{len(acknowledged)} writes in {elapsed:.0f} s"
    store, admin = accounts.sign_in(folder, "admin", password)
    fresh.extra.append(store)
    results = maintenance.check_store(store, admin)
    assert all(r.ok for r in results), results
    assert {r.name for r in results} == {"integrity_check", "cipher_integrity_check", "audit_chain",
                                         "audit_triggers", "audit_anchor", "key_file_anchor",
                                         "dashboard_summaries"}
    missing = acknowledged - _incident_ids(store)
    assert not missing, f"{len(missing)} acknowledged incidents were lost"


@pytest.mark.sqlcipher_only("processes sharing one store file; on a server: tests/pg/test_pg_concurrency.py and test_pg_faults.py")
def test_two_processes_write_500_each_without_lock_errors(fresh, tmp_path, password):
    per_process = 500
    folder, ward = fresh.folder, fresh.wards["Oak Ward"]
    with unit_of_work(fresh.store, write=False) as session:
        before = session.scalar(select(func.count()).select_from(Incident))
    go = tmp_path / "go"
    children = [Child(folder, name, ward, per_process, password, go) for name in ("nurse", "nurse2")]
    for child in children:
        assert child.ready.wait(60), "a writer did not start"
    go.touch()
    for child in children:
        code, stderr = child.finish(timeout=300)
        assert code == 0, stderr[-2000:]
        assert "locked" not in stderr.lower() and "Traceback" not in stderr
    summaries = [next(line for line in c.lines if line.startswith("done")) for c in children]
    assert summaries == [f"done {per_process} 0 0"] * 2
    ids = children[0].acknowledged() | children[1].acknowledged()
    assert len(ids) == 2 * per_process
    with unit_of_work(fresh.store, write=False) as session:
        total = session.scalar(select(func.count()).select_from(Incident))
        references = session.scalar(select(func.count(func.distinct(Incident.reference))))
    assert total - before == 2 * per_process
    assert references == total  # BEGIN IMMEDIATE serialised the reference numbering
    assert ids <= _incident_ids(fresh.store)
    results = maintenance.check_store(fresh.store, fresh.actors["admin"])
    assert all(r.ok for r in results), results
