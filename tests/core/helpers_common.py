"""Shared helpers for the foundation tests: the session's template store (tests/conftest.py), copied per test.

Building a store with one account per role costs about 13 Argon2id derivations (~1.8 s). The
`fresh` fixture copies the closed template folder instead and signs in once (~0.15 s). The copy is a
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
from core.services import accounts
from tests.conftest import PASSWORD  # noqa: E402,F401 - re-exported for the test modules

REPO = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent
HEX_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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
    """The session's template store from tests/conftest.py (built once). Tests must not write to it."""
    folder, actors, recovery, wards = _store_template
    return Template(folder, actors, recovery, wards)


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
