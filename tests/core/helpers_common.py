"""Shared helpers for the foundation tests: a template store built once per session and copied per test.

Building a store with one account per role costs about 13 Argon2id derivations (~1.8 s). The
`fresh` fixture copies a closed template folder instead and signs in once (~0.15 s). The copy is a
real encrypted store: same key, same key slots, same user ids, so the template's actors stay valid.
Synthetic data only.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from core.clock import utcnow
from core.dto import Actor, IncidentDraft, PersonDraft
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts

PASSWORD = "test-only passphrase 42"  # same as tests/conftest.py
REPO = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent
USERS = (("nurse", "nurse", ["Oak Ward"]), ("nurse2", "nurse", ["Oak Ward"]),
         ("manager", "ward_manager", ["Oak Ward"]), ("manager_elm", "ward_manager", ["Elm Ward"]),
         ("lead", "safeguarding_lead", []))
HEX_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class Template:
    folder: Path
    actors: dict[str, Actor]
    recovery: str
    wards: dict[str, int]


@dataclass
class Fresh:
    store: object
    actors: dict[str, Actor]
    recovery: str
    wards: dict[str, int]
    folder: Path
    extra: list = field(default_factory=list)


def build_store(folder: Path) -> Template:
    """The same shape as tests/conftest.py's make_store: two wards and one account per role, minimum KDF."""
    store, admin, recovery = accounts.init_store(
        folder, ods_code="RXX", wards=["Oak Ward", "Elm Ward"], admin_username="admin",
        admin_password=PASSWORD, kdf=MINIMUM_KDF)
    wards = {w.name: w.ward_id for w in accounts.list_wards(store, admin)}
    for username, role, ward_names in USERS:
        accounts.create_user(store, admin, username=username, role=role,
                             ward_ids=[wards[w] for w in ward_names], password=PASSWORD, must_change=False)
    store.close()
    actors = {"administrator": admin, "admin": admin}
    for username, _role, _w in USERS:
        s, actor = accounts.sign_in(folder, username, PASSWORD)
        s.close()
        actors[username] = actor
    return Template(folder, actors, recovery, wards)


_TEMPLATE: list[Template] = []


@pytest.fixture(scope="session", name="template")
def template_fixture(tmp_path_factory) -> Template:
    """Built once per test process. (Each test module imports this fixture, which pytest registers per
    module, so the cache lives here rather than in the fixture scope.) Tests must not write to it."""
    if not _TEMPLATE:
        _TEMPLATE.append(build_store(tmp_path_factory.mktemp("template") / "store"))
    return _TEMPLATE[0]


def copy_store(template: Template, dest: Path) -> Path:
    shutil.copytree(template.folder, dest)
    return dest


@pytest.fixture(name="fresh")
def fresh_fixture(template, tmp_path):
    """A private copy of the template store, signed in as admin. Closed at teardown."""
    folder = copy_store(template, tmp_path / "store")
    store, _admin = accounts.sign_in(folder, "admin", PASSWORD)
    result = Fresh(store, dict(template.actors), template.recovery, dict(template.wards), folder)
    yield result
    for s in [store, *result.extra]:
        if s.is_open:
            s.close()


def draft(ward_id: int, *, description: str = "Synthetic test incident.", local_ref: str = "T1",
          perpetrator_type: str = "patient", linked_user_id: str | None = None,
          types=("SS-HAR-V",), harm=("none", "low"), flags=()) -> IncidentDraft:
    """A complete, submittable synthetic draft."""
    return IncidentDraft(
        ward_id=ward_id, types=tuple(types), occurred_at=utcnow() - timedelta(hours=2), occurred_precision="exact",
        location="lounge",
        people=(PersonDraft(role="affected", person_type="patient", local_ref=local_ref,
                            harm_physical=harm[0], harm_psychological=harm[1]),
                PersonDraft(role="alleged_perpetrator", person_type=perpetrator_type, linked_user_id=linked_user_id)),
        flags=tuple(flags), description=description)


def python_env() -> dict:
    """Environment for child processes: the repo on the path, no Qt display."""
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


PY = sys.executable
