"""Trust-wide Lantern on PostgreSQL, measured on this machine against a loopback server (issue 16 item 10).

Figures only, never a pass or fail on speed (docs/performance.md has them, with the command):

- many PCs at once: CLIENTS processes (default 50), each signed in as its own nurse with its own login role,
  each sending PER_CLIENT reports (default 200) through `incidents.submit_report`, the whole Send (write, the
  rules, the actions, the audit rows, row-level security): errors, lost or duplicate references, and the p50 and
  p95 of each Send as the client waits for it;
- a trust store (TRUST_INCIDENTS, default 1,000,000, over 40 wards and 12 months): a ward manager's first page,
  a filter change and the ward-year dashboard through the services, with row-level security on and then off.

LANTERN_BENCH_CLIENTS, LANTERN_BENCH_PER_CLIENT and LANTERN_BENCH_TRUST_INCIDENTS change the sizes.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from tests.pg.server import ThrowawayServer, find_bindir

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
