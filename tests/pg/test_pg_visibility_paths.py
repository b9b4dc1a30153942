"""One visibility rule on every read path, on a trust's server (issue 16 item 1): the embedded store's property
test (tests/core/services/test_visibility_paths.py) run unchanged, except that each account reads through its
own database login, so row-level security sits under every path: single reads, my incidents, the review list,
the queue and its counts, the overdue count, the dashboard, every export kind, the reference look-up and the
re-export flags must all agree with the rule in plain words."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core.db.server import ServerStore, make_server_engine
from core.services import accounts
from core.services.server_setup import approve_as_owner, init_server
from tests.core.services.test_visibility_paths import ACCOUNTS, check_every_path, incident_specs

PASSWORD = "test-only passphrase 42 for every path"
ROLES = {"nurse": ("nurse", "Oak Ward"), "nurse2": ("nurse", "Oak Ward"), "manager": ("ward_manager", "Oak Ward"),
         "manager_elm": ("ward_manager", "Elm Ward"), "lead": ("safeguarding_lead", None)}


@pytest.fixture(scope="module")
def paths_trust(pg_server):
    """One server store for the module, with the embedded template's accounts and wards; each example empties
    its incidents. Returns (stores by account, the owner's store, actors, wards)."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    owner_url = pg_server.url(database)
    location = owner_url.replace(f"{pg_server.superuser}@", "")
    init_server(owner_url, owner=pg_server.superuser, owner_password=pg_server.password, ods_code="RXX",
                wards=["Oak Ward", "Elm Ward"], admin_username="admin", admin_password=PASSWORD)
    admin_store, admin = accounts.sign_in(location, "admin", PASSWORD)
    wards = {w.name: w.ward_id for w in accounts.list_wards(admin_store, admin)}
    stores, actors = {"admin": admin_store}, {"admin": admin}
    for name in ("lead", "nurse", "nurse2", "manager", "manager_elm"):
        role, ward = ROLES[name]
        new = accounts.create_user(admin_store, admin, username=name, role=role, ward_ids=[wards[ward]] if ward else [])
        if name == "lead":
            temp = approve_as_owner(owner_url, owner=pg_server.superuser, owner_password=pg_server.password,
                                    request_id=new.request_id)
        else:
            temp = accounts.decide_access_request(stores["lead"], actors["lead"], new.request_id, approve=True)
        store, actor = accounts.sign_in(location, name, temp)
        actors[name] = accounts.change_password(store, actor, temp, PASSWORD)
        stores[name] = store
    owner = ServerStore(location, database, pg_server.superuser,
                        make_server_engine(owner_url, username=pg_server.superuser, password=pg_server.password))
    yield stores, owner, actors, wards
    for store in (*stores.values(), owner):
        store.close()


def _empty(owner) -> None:
    with owner.engine.begin() as conn:
        conn.execute(text("DELETE FROM export_latest; DELETE FROM export_batches; DELETE FROM incidents"))


@settings(max_examples=5, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(incident_specs(), min_size=2, max_size=5))
def test_every_read_path_gives_the_same_incidents_on_a_server(paths_trust, specs):
    stores, owner, actors, wards = paths_trust
    _empty(owner)
    with tempfile.TemporaryDirectory(prefix="lantern-pg-visibility-") as tmp:
        check_every_path(stores, owner, actors, wards, specs, Path(tmp), pdfs=False)


def test_every_path_in_a_fixed_store_on_a_server(paths_trust, tmp_path):
    from tests.core.services.test_visibility_paths import _spec

    stores, owner, actors, wards = paths_trust
    _empty(owner)
    specs = [_spec("Oak Ward", "nurse", "staff", "nurse2"), _spec("Oak Ward", "nurse", types=("SS-STAFF",)),
             _spec("Oak Ward", "nurse2", submit=False), _spec("Elm Ward", "manager_elm", "staff", "lead"),
             _spec("Elm Ward", "lead", "visitor")]
    seen = check_every_path(stores, owner, actors, wards, specs, tmp_path, pdfs=True)
    assert [len(seen[name]) for name in ACCOUNTS] == [2, 1, 2, 2, 3, 0]
