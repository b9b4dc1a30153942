"""Shared test fixtures: real encrypted stores (never a mocked database), synthetic data only."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.dto import Actor  # noqa: E402
from core.security.keyslots import MINIMUM_KDF  # noqa: E402
from core.services import accounts  # noqa: E402

PASSWORD = "test-only passphrase 42"  # synthetic, meets the policy

from tests.both_engines import _pg_routing, _pg_store_template, pg_server, pg_store_maker  # noqa: E402,F401  (fixtures)


def add_account(store, admin: Actor, *, approver: Actor | None = None, recovery_key: str | None = None,
                password: str = PASSWORD, **fields) -> Actor:
    """Add an account that reads incident content the way docs/security-model.md says: the administrator asks,
    a safeguarding lead (`approver`) or, while there is none, the recovery key holder approves, and the person
    replaces the temporary password the approver was shown with `password`. Returns the person's actor.

    Everything goes through `store` (one open handle), so no other handle's copy of the key slots goes stale."""
    new = accounts.create_user(store, admin, **fields)
    assert new.request_id is not None and not new.temporary_password
    if approver is not None:
        temp = accounts.decide_access_request(store, approver, new.request_id, approve=True)
    else:
        temp = accounts.approve_with_recovery_key(store, recovery_key, new.request_id)
    user = new.user
    if hasattr(store, "remember_password"):  # a server store: the person signs in with their own login
        store.remember_password(user.username, temp)
    person = Actor(user.user_id, user.username, user.role, user.ward_ids, "test", True, user.display_name)
    changed = accounts.change_password(store, person, temp, password)
    if hasattr(store, "remember_password"):
        store.remember_password(user.username, password)
    return changed


@pytest.fixture(scope="session")
def password() -> str:
    """The synthetic password of every account in the test stores: take it as a fixture, never import it."""
    return PASSWORD


@pytest.fixture(scope="session", name="add_account")
def add_account_fixture():
    """`add_account` above, as a fixture for the test modules."""
    return add_account


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Logs and settings go to a temporary folder, never the developer's own."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("LANTERN_LOG_DIR", str(base / "logs"))
    monkeypatch.setenv("LANTERN_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("LANTERN_SITE_CONFIG_DIR", str(base / "site-config"))
    monkeypatch.setenv("LANTERN_DATA_DIR", str(base / "data"))


@pytest.fixture(autouse=True)
def _drain_database_lanes():
    """Every database-lane job ends, and its result is delivered, inside the test that started it (issue 11,
    item 16). Only when the UI's lane was imported, so core tests stay Qt-free."""
    yield
    tasks = sys.modules.get("ui.tasks")
    if tasks is not None:
        assert tasks.drain(), "a database-lane job was still running 30 s after the test"


@pytest.fixture(scope="session")
def _store_template(tmp_path_factory):
    """One closed store with two wards and one account per role, built once per test session.

    Building costs about 13 Argon2id derivations; each test copies the folder instead. A copy is a
    real encrypted store (same key, slots and user ids), so the actors recorded here stay valid.
    """
    import os as _os

    folder = tmp_path_factory.mktemp("template") / "store"
    saved = _os.environ.get("LANTERN_LOG_DIR")
    _os.environ["LANTERN_LOG_DIR"] = str(folder.parent / "logs")
    try:
        store, admin, recovery = accounts.init_store(
            folder, ods_code="RXX", wards=["Oak Ward", "Elm Ward"], admin_username="admin",
            admin_password=PASSWORD, kdf=MINIMUM_KDF)
        wards = {w.name: w.ward_id for w in accounts.list_wards(store, admin)}
        # the first lead is approved with the recovery key; the lead approves everyone after
        lead = add_account(store, admin, recovery_key=recovery, username="lead", role="safeguarding_lead")
        for username, role, ward_names in (("nurse", "nurse", ["Oak Ward"]),
                                           ("nurse2", "nurse", ["Oak Ward"]),
                                           ("manager", "ward_manager", ["Oak Ward"]),
                                           ("manager_elm", "ward_manager", ["Elm Ward"])):
            add_account(store, admin, approver=lead, username=username, role=role,
                        ward_ids=[wards[w] for w in ward_names])
        store.close()
        actors = {"administrator": admin}
        for username in ("nurse", "nurse2", "manager", "manager_elm", "lead", "admin"):
            s, actor = accounts.sign_in(folder, username, PASSWORD)
            s.close()
            actors[username] = actor
        (folder / "signin-failures.json").unlink(missing_ok=True)
    finally:
        if saved is None:
            _os.environ.pop("LANTERN_LOG_DIR", None)
        else:
            _os.environ["LANTERN_LOG_DIR"] = saved
    return folder, actors, recovery, wards


@pytest.fixture(scope="module")
def engine(request) -> str:
    """The engine of the store a test gets: "sqlcipher", or "postgresql" where tests/core/conftest.py asks for
    both (tests/both_engines.py)."""
    return getattr(request, "param", "sqlcipher")


@pytest.fixture
def make_store(request, engine, tmp_path):
    """Give a test its own real store: two wards and one account per role (minimum Argon2id cost): a SQLCipher
    store, or a database of the throwaway PostgreSQL server when `engine` is "postgresql".

    Returns a function giving (store signed in as admin, actors by username and role, recovery key,
    ward ids by name); every store is closed at teardown.
    """
    if engine == "postgresql":
        yield request.getfixturevalue("pg_store_maker")
        return
    import shutil

    template, actors, recovery, wards = request.getfixturevalue("_store_template")
    opened = []

    def _make(name: str = "store"):
        folder = tmp_path / name
        shutil.copytree(template, folder)
        store, _ = accounts.sign_in(folder, "admin", PASSWORD)
        opened.append(store)
        return store, dict(actors), recovery, dict(wards)

    yield _make
    for store in opened:
        if store.is_open:
            store.close()


@pytest.fixture(scope="module")
def module_store(request, engine, tmp_path_factory):
    """`make_store`'s store, built once for a test module (tests that share one store: a matrix, a property test),
    on the module's engine. Returns (store signed in as admin, actors, recovery key, ward ids by name)."""
    if engine == "postgresql":
        from tests.both_engines import copied_store

        store, actors, wards, drop = copied_store(request)
        yield store, actors, None, wards
        drop()
        return
    template, actors, recovery, wards = request.getfixturevalue("_store_template")
    folder = copy_store(Template(template, actors, recovery, wards), tmp_path_factory.mktemp("module") / "store")
    store, _admin = accounts.sign_in(folder, "admin", PASSWORD)
    yield store, dict(actors), recovery, dict(wards)
    if store.is_open:
        store.close()


@pytest.fixture
def store_folder(make_store) -> Path:
    store, _actors, _recovery, _wards = make_store()
    return store.folder


@dataclass
class Template:
    folder: Path
    actors: dict[str, Actor]
    recovery: str
    wards: dict[str, int]
    password: str = PASSWORD  # every account's


@dataclass
class Fresh:
    store: object
    actors: dict[str, Actor]
    recovery: str
    wards: dict[str, int]
    folder: Path
    extra: list = field(default_factory=list)


@pytest.fixture(scope="session", name="template")
def template_fixture(_store_template) -> Template:
    """The session's template store (`_store_template`, built once). Tests must not write to it."""
    folder, actors, recovery, wards = _store_template
    return Template(folder, actors, recovery, wards)


def copy_store(template: Template, dest: Path) -> Path:
    shutil.copytree(template.folder, dest)
    return dest


@pytest.fixture(name="fresh")
def fresh_fixture(request, engine, tmp_path):
    """A private copy of the template store, signed in as admin. Closed at teardown. On the server
    (`engine` "postgresql"), `folder` is the store's postgresql:// location and `recovery` is None."""
    if engine == "postgresql":
        store, actors, recovery, wards = request.getfixturevalue("pg_store_maker")()
        result = Fresh(store, actors, recovery, wards, store.location)
        yield result
        for s in result.extra:
            if s.is_open:
                s.close()
        return
    template = request.getfixturevalue("template")
    folder = copy_store(template, tmp_path / "store")
    store, _admin = accounts.sign_in(folder, "admin", PASSWORD)
    result = Fresh(store, dict(template.actors), template.recovery, dict(template.wards), folder)
    yield result
    for s in [store, *result.extra]:
        if s.is_open:
            s.close()


@pytest.fixture(scope="session")
def _demo_store_template(tmp_path_factory):
    """The built-in demo store exactly as `python3 bootstrap.py run` makes it: the same seeder, the same size.

    Only the Argon2id cost is the minimum, so that signing in takes milliseconds; it changes no behaviour.
    """
    from core import paths
    from core.demo.seed import create_or_fill_demo

    folder = tmp_path_factory.mktemp("demo-template") / "demo"
    create_or_fill_demo(folder, paths.DEMO_PASSWORD, incidents=paths.DEMO_INCIDENTS, kdf=MINIMUM_KDF)
    (folder / "signin-failures.json").unlink(missing_ok=True)
    return folder


@pytest.fixture
def demo_store_folder(tmp_path, _demo_store_template) -> Path:
    """A fresh copy of the built-in demo store (sign in as nurse, manager, lead or admin; `paths.DEMO_PASSWORD`)."""
    import shutil

    folder = tmp_path / "demo"
    shutil.copytree(_demo_store_template, folder)
    return folder
