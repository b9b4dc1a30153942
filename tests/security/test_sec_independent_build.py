"""The store stays standard SQLCipher 4: a separately built SQLCipher from PyPI (`sqlcipher3-binary`, installed
by bootstrap.py into .venv/independent-sqlcipher, see pyproject.toml [tool.lantern]) opens it with nothing but
the raw key and the SQLCipher 4 defaults, reads it and finds every page's HMAC intact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.security.keyslots import SlotFile

pytestmark = pytest.mark.sqlcipher_only("the store file opened by a separate SQLCipher build with the raw key")

REPO = Path(__file__).resolve().parents[2]
INDEPENDENT = Path(sys.prefix) / "independent-sqlcipher"

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import sqlcipher3
from sqlcipher3 import dbapi2


conn = dbapi2.connect(sys.argv[2])
conn.execute("PRAGMA key = \"x'%s'\"" % sys.stdin.readline().strip())
out = {
    "module": sqlcipher3.__file__,
    "cipher_version": conn.execute("PRAGMA cipher_version").fetchone()[0],
    "sqlite_version": dbapi2.sqlite_version,
    "users": sorted(r[0] for r in conn.execute("SELECT username FROM users")),
    "ods": conn.execute("SELECT ods_code FROM organisation").fetchone()[0],
    "integrity": [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")],
}
print(json.dumps(out))
"""


def test_a_separate_sqlcipher_build_opens_the_store_with_the_raw_key(fresh, password):
    if not (INDEPENDENT / "sqlcipher3").is_dir():
        pytest.fail("The independent SQLCipher build is missing: run `python3 bootstrap.py test` once (it installs "
                    "sqlcipher3-binary into .venv/independent-sqlcipher).")
    fresh.store.checkpoint()
    slots = SlotFile.read(fresh.folder)
    key = slots.slot_for_username("admin").unwrap(password)
    try:
        done = subprocess.run([sys.executable, "-I", "-c", PROBE, str(INDEPENDENT), str(fresh.folder / "lantern.db")],
                              input=key.hex() + "\n", capture_output=True, text=True, timeout=60, cwd=REPO)
    finally:
        key.zero()
    assert done.returncode == 0, done.stderr[-500:]
    out = json.loads(done.stdout)
    import sqlcipher3.dbapi2 as ours

    assert Path(out["module"]).is_relative_to(INDEPENDENT)
    assert out["sqlite_version"] != ours.sqlite_version  # really another build
    assert out["cipher_version"].startswith("4.")
    assert out["ods"] == "RXX" and {"admin", "nurse", "lead"} <= set(out["users"])
    assert out["integrity"] == []
