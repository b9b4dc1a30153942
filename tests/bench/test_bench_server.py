"""Trust-wide Lantern on PostgreSQL, measured on this machine against a loopback server (issue 16 item 10).

Figures only, never a pass or fail on speed (docs/performance.md has them, with the command):

- many PCs at once: CLIENTS processes (default 50), each signed in as its own nurse with its own login role,
  each sending PER_CLIENT reports (default 200) through `incidents.submit_report`, the whole Send (write, the
  rules, the actions, the audit rows, row-level security): errors, lost or duplicate references, and the p50 and
  p95 of each Send as the client waits for it;
- a trust store (TRUST_INCIDENTS, default 1,000,000, over 40 wards and 12 months): a ward manager's first page,
  a filter change and the ward-year dashboard through the services, with row-level security on and then off;
- from the same store (built once for both tests), the safeguarding lead's trust-wide NRLS XML export of the
  year through the CLI, as a new process (`main.py export nrls-xml`), its time and peak memory (max RSS from
  wait4, as tests/bench/test_bench_exports.py measures) beside a floor in the same run: a new process that signs
  the lead in the same way and counts the incidents.

LANTERN_BENCH_CLIENTS, LANTERN_BENCH_PER_CLIENT and LANTERN_BENCH_TRUST_INCIDENTS change the sizes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from tests.pg.server import ThrowawayServer, find_bindir

ROOT = Path(__file__).resolve().parents[2]

CLIENTS = int(os.environ.get("LANTERN_BENCH_CLIENTS", "50"))
PER_CLIENT = int(os.environ.get("LANTERN_BENCH_PER_CLIENT", "200"))
TRUST_INCIDENTS = int(os.environ.get("LANTERN_BENCH_TRUST_INCIDENTS", "1000000"))
PASSWORD = "bench-only passphrase 42 for the trust"  # synthetic


@pytest.fixture(scope="module")
def server():
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server programs")
    srv = ThrowawayServer.start(bindir)
    yield srv
    srv.stop()


def _new_store(server, wards: list[str]) -> tuple[str, str]:
    from core.services.server_setup import init_server

    name = f"b_{uuid.uuid4().hex[:10]}"
    with server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner_url = server.url(name)
    init_server(owner_url, owner=server.superuser, owner_password=server.password, ods_code="RXX", wards=wards,
                admin_username="admin", admin_password=PASSWORD)
    return owner_url, owner_url.replace(f"{server.superuser}@", "")


def _people(server, owner_url: str, location: str, accounts_wanted: list[tuple[str, str, list[int]]]) -> None:
    """Accounts the app's way: the administrator asks, the first lead is approved by the owner, the lead
    approves everyone else, each replaces the temporary password."""
    from core.services import accounts
    from core.services.server_setup import approve_as_owner

    admin_store, admin = accounts.sign_in(location, "admin", PASSWORD)
    request = accounts.create_user(admin_store, admin, username="lead", role="safeguarding_lead").request_id
    temp = approve_as_owner(owner_url, owner=server.superuser, owner_password=server.password, request_id=request)
    store, lead = accounts.sign_in(location, "lead", temp)
    lead = accounts.change_password(store, lead, temp, PASSWORD)
    for username, role, wards in accounts_wanted:
        new = accounts.create_user(admin_store, admin, username=username, role=role, ward_ids=wards)
        temp = accounts.decide_access_request(store, lead, new.request_id, approve=True)
        person_store, person = accounts.sign_in(location, username, temp)
        accounts.change_password(person_store, person, temp, PASSWORD)
        person_store.close()
    store.close()
    admin_store.close()


def _client(location: str, username: str, ward: int, count: int) -> tuple[list[float], list[str], list[str]]:
    from core.services import accounts, incidents
    from tests.core.helpers_common import draft

    store, nurse = accounts.sign_in(location, username, PASSWORD)
    waits, references, errors = [], [], []
    for _ in range(count):
        started = time.perf_counter()
        try:
            references.append(incidents.submit_report(store, nurse, draft(ward)).reference)
        except Exception as err:  # noqa: BLE001 - counted and reported
            errors.append(type(err).__name__)
        waits.append(time.perf_counter() - started)
    store.close()
    return waits, references, errors


def test_many_pcs_sending_at_once(server):
    owner_url, location = _new_store(server, ["Oak Ward"])
    _people(server, owner_url, location, [(f"nurse{n}", "nurse", [1]) for n in range(CLIENTS)])
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=CLIENTS, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(_client, [location] * CLIENTS, [f"nurse{n}" for n in range(CLIENTS)],
                                [1] * CLIENTS, [PER_CLIENT] * CLIENTS))
    elapsed = time.perf_counter() - started
    waits = sorted(w for r in results for w in r[0])
    references = [ref for r in results for ref in r[1]]
    errors = [e for r in results for e in r[2]]
    p50, p95 = statistics.median(waits), waits[int(len(waits) * 0.95) - 1]
    print(f"\n{CLIENTS} clients x {PER_CLIENT} reports: {len(references)} sent in {elapsed:.1f} s, "
          f"{len(errors)} errors {sorted(set(errors))}, {len(references) - len(set(references))} duplicate "
          f"references; Send p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms (load: {os.getloadavg()[0]:.1f})")
    assert len(set(references)) == len(references)  # correctness, not speed: no duplicate reference


BULK = """
INSERT INTO incidents (id, reference, ward_id, reporter_id, status, occurred_at, occurred_precision, shift, location,
  reported_at, description, immediate_actions, flags, pair, harm_physical, harm_psychological, pd09, restricted,
  harm_confirmation_needed, type_codes, police_referred, feedback_note, taxonomy_version, rules_version, version,
  created_at, updated_at, submitted_at, people_refs)
SELECT md5(g::text)::uuid::text, 'LAN-B-' || lpad(g::text, 8, '0'), 1 + g % 40, :reporter,
  CASE WHEN g % 10 = 0 THEN 'closed' ELSE 'submitted' END,
  to_char(timestamp '2026-01-01' + (g % 480000) * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'exact',
  (ARRAY['day', 'night', 'morning_handover'])[1 + g % 3], (ARRAY['bedroom', 'lounge', 'corridor'])[1 + g % 3],
  '2026-11-01T00:00:00+00:00', 'Synthetic benchmark incident.', '', '[]', 'patient_on_patient',
  (ARRAY['none', 'low'])[1 + g % 2], (ARRAY['none', 'low', 'moderate'])[1 + g % 3], 1, g % 50 = 0, false,
  (ARRAY['SS-HAR-V', 'SS-SA', 'SS-EXP-S'])[1 + g % 3], g % 7 = 0, '', 1, 1, 1,
  '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00',
  'P-0' || chr(31) || 'affected' || chr(31) || 'patient' || chr(30) || 'P-1' || chr(31) || 'alleged_perpetrator'
    || chr(31) || 'patient'
FROM generate_series(1, :n) g;
INSERT INTO incident_types (incident_id, code) SELECT id, type_codes FROM incidents;
INSERT INTO people_involved (incident_id, position, role, person_type, local_ref, harm_physical, harm_psychological)
  SELECT id, p, (ARRAY['affected', 'alleged_perpetrator'])[p + 1], 'patient', 'P-' || p, harm_physical,
  harm_psychological FROM incidents, generate_series(0, 1) p;
INSERT INTO safeguarding_actions (incident_id, rule_id, title, guidance, why, source, owner_role, owner_label,
  mandatory, deadline_kind, due_at, status, note, reference, created_at)
  SELECT id, 'bench-' || a, 'Benchmark action ' || a, '', '', '', 'ward_manager', 'Ward manager', true, 'immediate',
  occurred_at, CASE WHEN a = 0 AND right(reference, 2) = '00' THEN 'open' ELSE 'done' END, '', '',
  '2026-11-01T00:00:00+00:00' FROM incidents, generate_series(0, 1) a;
ANALYZE;
"""
CONTENT = ("incidents", "people_involved", "incident_types", "safeguarding_actions", "incident_versions",
           "export_latest", "form_drafts")


def _median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _timings(store, manager) -> dict[str, float]:
    from datetime import date

    from core.services import queue, reports, review
    from core.services.review import IncidentQuery

    ward = IncidentQuery(ward_id=1)
    return {"ward's first page": _median_ms(lambda: review.list_incidents(store, manager, ward)),
            "filter change (shift)": _median_ms(lambda: review.list_incidents(
                store, manager, IncidentQuery(ward_id=1, shift="night"))),
            "ward-year dashboard": _median_ms(lambda: reports.dashboard(
                store, manager, ward_id=1, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))),
            "action queue first page": _median_ms(lambda: queue.list_queue(store, manager))}


@pytest.fixture(scope="module")
def trust_store(server):
    """The trust store, built once with SQL: (owner URL, location, seconds to build)."""
    from sqlalchemy import text as sql

    from core.db.server import make_server_engine

    wards = [f"Ward {n:02d}" for n in range(1, 41)]
    owner_url, location = _new_store(server, wards)
    _people(server, owner_url, location, [("manager", "ward_manager", [1]), ("nurse", "nurse", [1])])
    owner = make_server_engine(owner_url, username=server.superuser, password=server.password)
    started = time.perf_counter()
    with owner.begin() as conn:
        conn.execute(sql("SET LOCAL statement_timeout = 0"))  # building the store is not a user's wait
        reporter = conn.execute(sql("SELECT id FROM users WHERE username = 'nurse'")).scalar()
        for statement in BULK.split(";\n"):
            if statement.strip():
                conn.execute(sql(statement), {"reporter": reporter, "n": TRUST_INCIDENTS})
    owner.dispose()
    # What autovacuum does after a bulk load, done now so the figures do not depend on when it runs: without the
    # visibility map an index-only scan still visits the table.
    with server.admin(owner_url.rsplit("/", 1)[1]) as conn:
        conn.execute("VACUUM ANALYZE")
    return owner_url, location, time.perf_counter() - started


def test_a_trust_store_of_a_million_incidents(server, trust_store):
    from sqlalchemy import text as sql

    from core.db.server import make_server_engine
    from core.services import accounts

    owner_url, location, built = trust_store
    owner = make_server_engine(owner_url, username=server.superuser, password=server.password)
    store, manager = accounts.sign_in(location, "manager", PASSWORD)
    with_rls = _timings(store, manager)
    with owner.begin() as conn:
        for table in CONTENT:
            conn.execute(sql(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
    without_rls = _timings(store, manager)
    with owner.begin() as conn:
        for table in CONTENT:
            conn.execute(sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    store.close()
    owner.dispose()
    print(f"\ntrust store of {TRUST_INCIDENTS:,} incidents over 40 wards built in {built:.0f} s "
          f"(load {os.getloadavg()[0]:.1f}); a ward manager of one ward, through the services:")
    for name in with_rls:
        print(f"  {name}: {with_rls[name]:.0f} ms with row-level security, {without_rls[name]:.0f} ms without "
              f"({with_rls[name] / max(without_rls[name], 0.001):.2f}x)")
    _lead_dashboard(location)


def _lead_dashboard(location: str) -> None:
    """The safeguarding lead's trust-wide dashboard of the year (every ward), with row-level security: an inner
    step, the median of 3."""
    from datetime import date

    from core.services import accounts, reports

    store, lead = accounts.sign_in(location, "lead", PASSWORD)
    try:
        took = _median_ms(lambda: reports.dashboard(store, lead, date_from=date(2026, 1, 1),
                                                    date_to=date(2026, 12, 31)), runs=3)
    finally:
        store.close()
    print(f"  the lead's trust-wide year dashboard: {took:.0f} ms with row-level security")


FLOOR = """
import sys
sys.path.insert(0, {root!r})
from core.logs import setup_logging
setup_logging()
import cli.main
from sqlalchemy import func, select
from core.db.models import Incident
from core.db.store import unit_of_work
from core.services import accounts
store, actor = accounts.sign_in(sys.argv[1], "lead", sys.stdin.readline().rstrip("\\n"))
with unit_of_work(store, write=False) as session:
    print(session.scalar(select(func.count()).select_from(Incident)))
accounts.sign_out(store, actor)
"""


def _child(argv: list[str]) -> tuple[float, int, float]:
    """One process run to its end, the password on standard input: (seconds, peak resident memory in bytes, CPU
    seconds), measured as tests/bench/test_bench_exports.py does (wait4). It must succeed."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdin.write((PASSWORD + "\n").encode())
    proc.stdin.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    assert os.waitstatus_to_exitcode(status) == 0, (out + err).decode(errors="replace")[-2000:]
    return elapsed, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime  # Linux reports KiB


def test_a_trust_wide_year_exported(trust_store, tmp_path):
    """The safeguarding lead's trust-wide NRLS XML export of the year, end to end through the CLI, beside the
    floor (sign-in and a count) measured in the same run."""
    _owner_url, location, _built = trust_store
    out = tmp_path / "trust-2026.xml"
    export = [sys.executable, str(ROOT / "main.py"), "export", "nrls-xml", "--store", location, "--user", "lead",
              "--password-stdin", "--from", "2026-01-01", "--to", "2026-12-31", "--out", str(out)]
    floor = _child([sys.executable, "-c", FLOOR.format(root=str(ROOT)), location])
    load_before = os.getloadavg()[0]
    run = _child(export)
    mib = 1024 * 1024
    print(f"\ntrust-wide NRLS XML export of 2026 from {TRUST_INCIDENTS:,} incidents ({out.stat().st_size / mib:,.0f} "
          f"MiB written), end to end: {run[0]:.1f} s, peak {run[1] / mib:.0f} MiB, CPU {run[2]:.1f} s; floor (sign-in "
          f"and a count): {floor[0]:.2f} s, peak {floor[1] / mib:.0f} MiB, CPU {floor[2]:.2f} s; "
          f"load {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    out.unlink()
