"""Key material holders and the recovery-key format (core layer).

The raw 256-bit database key lives in exactly one `KeyHolder` (a bytearray) so it
can be zeroed on lock or exit. SQLCipher is keyed from a second bytearray holding its
raw-key form (`x'<hex>'`), zeroed as soon as the key is applied, so the app makes no
immutable str or bytes copy of the key while the store is open. Python cannot promise
that no copy survives in memory (see docs/security-model.md, "Memory"); this is best effort.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

DB_KEY_BYTES = 32
RECOVERY_KEY_BYTES = 20  # 160 bits -> 32 base32 characters
_HEX = b"0123456789abcdef"


class KeyHolder:
    """Holds the raw database key; `zero()` wipes it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes | bytearray):
        if len(key) != DB_KEY_BYTES:
            raise ValueError("database key has the wrong length")
        self._key = bytearray(key)

    @classmethod
    def generate(cls) -> KeyHolder:
        return cls(secrets.token_bytes(DB_KEY_BYTES))

    @property
    def is_zeroed(self) -> bool:
        return not any(self._key)

    def raw(self) -> bytes:
        if self.is_zeroed:
            raise RuntimeError("the store is locked")
        return bytes(self._key)

    def hex(self) -> str:
        """An immutable copy, which cannot be wiped: for tests and diagnostics only, never the app's own use."""
        return self.raw().hex()

    def view(self) -> memoryview:
        """A read-only view of the key, for cryptography and hashlib calls: no copy is made."""
        if self.is_zeroed:
            raise RuntimeError("the store is locked")
        return memoryview(self._key).toreadonly()

    @contextmanager
    def sqlcipher_key(self) -> Iterator[bytearray]:
        """SQLCipher's raw-key form, `x'<64 hex digits>'`, written into a new bytearray digit by digit (never
        through a str or bytes) and zeroed when the block ends. For `Connection.set_key`."""
        if self.is_zeroed:
            raise RuntimeError("the store is locked")
        blob = bytearray(2 * DB_KEY_BYTES + 3)
        blob[0], blob[1], blob[-1] = ord("x"), ord("'"), ord("'")
        for i, byte in enumerate(self._key):
            blob[2 + 2 * i] = _HEX[byte >> 4]
            blob[3 + 2 * i] = _HEX[byte & 15]
        try:
            yield blob
        finally:
            _zero(blob)

    def zero(self) -> None:
        _zero(self._key)

    def __repr__(self) -> str:  # never show the key
        return "KeyHolder(<hidden>)"


def _zero(buffer: bytearray) -> None:
    for i in range(len(buffer)):
        buffer[i] = 0


def new_recovery_key() -> str:
    """A fresh recovery key, formatted for printing: 8 groups of 4 base32 characters."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_KEY_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_recovery_key(text: str) -> str:
    """Accept a typed recovery key with spaces, dashes and any case; return the canonical form."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
