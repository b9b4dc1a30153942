"""The installation self-test behind `--self-test` (core layer): can this copy of Lantern run safely here?

Each check prints one line ("ok" or "FAIL", its name, and why). The Qt check is passed in by the
composition root, so core never imports Qt. No check touches a real store or any patient data.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import core


class CheckFailed(Exception):
    """A self-test check failed; the message says why in plain words."""


@dataclass(frozen=True)
class SelfTestResult:
    name: str
    ok: bool
    detail: str


def check_sqlcipher() -> str:
    """SQLCipher 4.x is the database library, and it keeps temporary data in memory."""
    import sqlcipher3.dbapi2 as sqlcipher

    from core.db.engine import check_sqlcipher_build
    from core.errors import LanternError

    try:
        version = check_sqlcipher_build()
    except LanternError as err:
        raise CheckFailed(err.message) from None
    conn = sqlcipher.connect(":memory:")
    try:
        conn.execute("PRAGMA temp_store = MEMORY")
        if conn.execute("PRAGMA temp_store").fetchone()[0] != 2:
            raise CheckFailed("the database library would not keep temporary data in memory (temp_store).")
    finally:
        conn.close()
    return f"SQLCipher {version} on SQLite {sqlcipher.sqlite_version}, temp_store MEMORY"


def check_temporary_store() -> str:
    """Create an encrypted database with the real schema, write, reopen with the key, read back, remove."""
    from sqlalchemy import text

    from core.db import migrate
    from core.db.engine import DB_FILE_NAME, make_engine
    from core.security.keys import KeyHolder

    folder = Path(tempfile.mkdtemp(prefix="lantern-selftest-"))
    key = KeyHolder.generate()
    try:
        db = folder / DB_FILE_NAME
        engine = make_engine(db, key, pool_size=1)
        try:
            migrate.upgrade(engine)
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO settings (key, value) VALUES ('selftest', 'written')"))
        finally:
            engine.dispose()
        if db.read_bytes()[:16] == b"SQLite format 3\x00":
            raise CheckFailed("the test database was written unencrypted.")
        engine = make_engine(db, key, pool_size=1)
        try:
            with engine.connect() as conn:
                value = conn.execute(text("SELECT value FROM settings WHERE key = 'selftest'")).scalar()
            revision = migrate.current_revision(engine)
        finally:
            engine.dispose()
        if value != "written":
            raise CheckFailed("a value written to the test database did not read back.")
        if revision != migrate.head_revision():
            raise CheckFailed("the database schema migrations did not all run.")
    except CheckFailed:
        raise
    except Exception as err:  # noqa: BLE001 - reported by class only; the message could quote a path
        raise CheckFailed(f"a temporary encrypted store could not be created ({type(err).__name__}).") from None
    finally:
        key.zero()
        shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        raise CheckFailed(f"the temporary store in {folder} could not be removed.")
    return f"created, written, reopened and removed (schema {revision})"


def check_taxonomy_and_rules() -> str:
    from core.errors import LanternError
    from core.rules import active_rules
    from core.taxonomy.loader import load_taxonomy

    try:
        taxonomy = load_taxonomy()
        rules = active_rules()
    except (LanternError, OSError) as err:
        raise CheckFailed(str(err)) from None
    return f"{len(taxonomy.incident_types)} incident types, {len(rules.rules)} safeguarding rules"


def qt_probe_in_subprocess(command: list[str], timeout: float = 60) -> str:
    """Run a Qt probe command (the app itself with a probe flag) and return its last output line.

    A subprocess, because a Qt platform plugin that fails to load aborts the whole process.
    """
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CheckFailed(f"the Qt check could not run ({type(err).__name__}).") from None
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    if done.returncode != 0:
        plugin = next((line for line in lines if "platform plugin" in line.lower()), "")
        if plugin:
            raise CheckFailed(f"Qt's platform plugin did not load (exit {done.returncode}). {plugin}")
        problem = next((line for line in reversed(lines) if "Error" in line and ":" in line), lines[-1] if lines else "")
        raise CheckFailed(f"the user interface could not start (exit {done.returncode}). {problem}".strip())
    return lines[-1] if lines else "Qt started"


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("sqlcipher", check_sqlcipher),
    ("encrypted store", check_temporary_store),
    ("taxonomy and rules", check_taxonomy_and_rules),
]


def run_checks(qt_check: Callable[[], str] | None = None) -> list[SelfTestResult]:
    checks = list(CHECKS)
    if qt_check is not None:
        checks.append(("qt", qt_check))
    results = []
    for name, check in checks:
        try:
            results.append(SelfTestResult(name, True, check()))
        except CheckFailed as err:
            results.append(SelfTestResult(name, False, str(err)))
        except Exception as err:  # noqa: BLE001 - one failing check must not hide the others
            results.append(SelfTestResult(name, False, f"the check stopped unexpectedly ({type(err).__name__})."))
    return results


def run_self_test(stdout: TextIO, qt_check: Callable[[], str] | None = None) -> int:
    """Print one line per check and a summary. Returns 0 only if every check passed."""
    print(f"Lantern {core.__version__} self-test", file=stdout)
    results = run_checks(qt_check)
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {r.detail}", file=stdout, flush=True)
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"Self-test FAILED ({', '.join(failed)}). Do not use this copy of Lantern; reinstall it or call IT.",
              file=stdout)
        return 1
    print("Self-test passed.", file=stdout)
    return 0
