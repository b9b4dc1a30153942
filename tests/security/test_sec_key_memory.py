"""Issue 13 item 7: key material. After lock, one hex copy of the database key stayed in process memory (the
`PRAGMA key` statement text, kept by the connection's statement cache). Now SQLCipher is keyed from a bytearray
that is zeroed at once, SQLCipher's memory security is on, and core dumps are off from start-up."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from core.db.engine import check_sqlcipher_build
from core.services import accounts
from tests.core.helpers_common import REPO, python_env

pytestmark = pytest.mark.sqlcipher_only("the embedded store's key in memory; a server store holds no key")

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/mem")


def _copies(first: bytes, second: bytes) -> int:
    """How many places in this process's readable memory hold `first` followed at once by `second`. The needle
    is held as two separate halves, so the search itself never makes a whole copy to find."""
    found = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]", "[vdso]")):
                continue
            low, high = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(low)
                data = mem.read(high - low)
            except (OSError, ValueError, OverflowError):
                continue
            at = data.find(first)
            while at != -1:
                found += data[at + len(first):at + len(first) + len(second)] == second
                at = data.find(first, at + 1)
    return found


@linux
def test_no_hex_copy_of_the_key_while_open_or_after_lock(fresh, password):
    store = fresh.store
    first, second = bytes(store.key.view()[:16]).hex().encode(), bytes(store.key.view()[16:]).hex().encode()
    accounts.list_users(store, fresh.actors["admin"])  # a few connections and statements in use
    store2, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    assert _copies(first, second) == 0  # not even while the stores are open: SQLCipher was keyed from a bytearray
    accounts.lock(store2, nurse)
    accounts.sign_out(store, fresh.actors["admin"])
    gc.collect()
    assert _copies(first, second) == 0
    assert store.key.is_zeroed and store2.key.is_zeroed


def test_sqlcipher_memory_security_is_on_before_any_key_is_used(fresh):
    check_sqlcipher_build()
    raw = fresh.store.engine.raw_connection()
    try:
        assert raw.driver_connection.execute("PRAGMA cipher_memory_security").fetchone()[0] == "1"
    finally:
        raw.close()


def test_the_key_is_applied_from_a_buffer_that_is_then_wiped(fresh):
    with fresh.store.key.sqlcipher_key() as blob:
        assert blob.startswith(b"x'") and len(blob) == 67
        kept = blob
    assert not any(kept)


@pytest.mark.skipif(sys.platform == "win32", reason="no RLIMIT_CORE on Windows: the installer excludes Lantern "
                                                    "from Windows Error Reporting")
def test_lantern_starts_with_core_dumps_off():
    code = "import main, resource; main.main(['--version']); print(resource.getrlimit(resource.RLIMIT_CORE))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=python_env(), capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip().splitlines()[-1] == "(0, 0)"
