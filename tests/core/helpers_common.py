"""Shared helpers for the foundation tests: synthetic drafts, child-process settings, and (from tests/conftest.py)
the session's template store, copied per test.

Building a store with one account per role costs about 13 Argon2id derivations (~1.8 s). The
`fresh` fixture copies the closed template folder instead and signs in once (~0.15 s). The copy is a
real encrypted store: same key, same key slots, same user ids, so the template's actors stay valid.
Synthetic data only.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from core.clock import utcnow
from core.dto import IncidentDraft, PersonDraft

# Re-exported for the test modules that import them from here; new tests take `password`, `template` and
# `fresh` as fixtures (tests/conftest.py).
from tests.conftest import PASSWORD, Fresh, Template, copy_store, fresh_fixture, template_fixture  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
HELPERS = Path(__file__).resolve().parent
HEX_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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
