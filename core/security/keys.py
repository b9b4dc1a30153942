"""Key material holders and the recovery-key format (core layer).

The raw 256-bit database key lives in exactly one `KeyHolder` (a bytearray) so it
can be zeroed on lock or exit. Python cannot promise that no copy survives in
memory (see docs/security-model.md, "Memory"); this is best effort.
"""

from __future__ import annotations

import base64
import secrets

DB_KEY_BYTES = 32
RECOVERY_KEY_BYTES = 20  # 160 bits -> 32 base32 characters


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
        return self.raw().hex()

    def zero(self) -> None:
        for i in range(len(self._key)):
            self._key[i] = 0

    def __repr__(self) -> str:  # never show the key
        return "KeyHolder(<hidden>)"


def new_recovery_key() -> str:
    """A fresh recovery key, formatted for printing: 8 groups of 4 base32 characters."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_KEY_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalise_recovery_key(text: str) -> str:
    """Accept a typed recovery key with spaces, dashes and any case; return the canonical form."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
