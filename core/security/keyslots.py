"""Key slots: the database key wrapped once per account and once for recovery (core layer).

Each slot wraps the same random 256-bit database key with a key derived from that
slot's secret by Argon2id (RFC 9106) and AES-256-GCM. The associated data binds
the slot id, the username and the KDF parameters, so none of them can be swapped.
The whole file carries an HMAC keyed from the database key, so adding, removing or
editing any slot is detected at the next successful unlock. Each slot also carries
a plain SHA-256 checksum so that a damaged slot is told apart from a wrong password.

A checksum can be recomputed by whoever edits the file, so each slot also carries a key check: an HMAC of a
fixed label under the password-derived wrapping key. The right password reproduces it; if the key check
matches but the AES-GCM tag then fails, the slot was edited (its wrapped key, nonce or username), and that is
reported as an altered key file, not as a wrong password (and not counted by the sign-in throttle). An edit to
the salt or KDF cost changes the derived key itself, so it still reads as a wrong password until someone signs
in with another slot and the whole-file HMAC fails. The key check reveals nothing a guesser could not learn
from the AES-GCM tag already.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import SlotFileTampered, WrongPassword
from core.fs import atomic_write
from core.security.keys import DB_KEY_BYTES, KeyHolder
from core.security.usernames import normalise_username

SLOT_FILE_NAME = "keyslots.json"
FORMAT = "lantern-keyslots"
FORMAT_VERSION = 1
RECOVERY_SLOT_ID = "recovery"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. The defaults sit at RFC 9106's second recommended option or above."""

    time_cost: int = 3
    memory_kib: int = 256 * 1024
    parallelism: int = 4

    def as_dict(self) -> dict:
        return {"alg": "argon2id", "t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}


DEFAULT_KDF = KdfParams()  # about 0.5 s on the development machine: see docs/performance.md
MINIMUM_KDF = KdfParams(time_cost=3, memory_kib=64 * 1024, parallelism=4)  # RFC 9106 second option


def derive_wrapping_key(secret: str, salt: bytes, kdf: KdfParams) -> bytes:
    return hash_secret_raw(
        secret.encode("utf-8"), salt, time_cost=kdf.time_cost, memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism, hash_len=32, type=Type.ID,
    )


@dataclass
class Slot:
    slot_id: str
    username: str
    salt: bytes
    kdf: KdfParams
    nonce: bytes
    wrapped: bytes
    check: bytes = b""  # HMAC of CHECK_LABEL under the wrapping key; empty in slots written before it existed

    def associated_data(self) -> bytes:
        return json.dumps(
            {"slot": self.slot_id, "user": self.username, "kdf": self.kdf.as_dict()},
            sort_keys=True, separators=(",", ":"),
        ).encode()

    def body(self) -> dict:
        body = {
            "id": self.slot_id, "username": self.username, "kdf": self.kdf.as_dict(),
            "salt": _b64(self.salt), "nonce": _b64(self.nonce), "wrapped": _b64(self.wrapped),
        }
        if self.check:
            body["check"] = _b64(self.check)
        return body

    def to_json(self) -> dict:
        body = self.body()
        body["checksum"] = hashlib.sha256(_canonical(body)).hexdigest()
        return body

    @classmethod
    def wrap(cls, slot_id: str, username: str, secret: str, key: KeyHolder,
             kdf: KdfParams = DEFAULT_KDF) -> Slot:
        salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        slot = cls(slot_id, username, salt, kdf, nonce, b"")
        wrapping = derive_wrapping_key(secret, salt, kdf)
        slot.wrapped = AESGCM(wrapping).encrypt(nonce, key.view(), slot.associated_data())
        slot.check = _key_check(wrapping)
        return slot

    def unwrap(self, secret: str) -> KeyHolder:
        wrapping = derive_wrapping_key(secret, self.salt, self.kdf)
        if self.check and not hmac.compare_digest(self.check, _key_check(wrapping)):
            raise WrongPassword()
        try:
            raw = AESGCM(wrapping).decrypt(self.nonce, self.wrapped, self.associated_data())
        except InvalidTag:
            if self.check:  # the password was right, so the slot itself was changed
                raise SlotFileTampered() from None
            raise WrongPassword() from None
        if len(raw) != DB_KEY_BYTES:
            raise SlotFileTampered()
        return KeyHolder(raw)


@dataclass
class SlotFile:
    store_id: str
    slots: dict[str, Slot] = field(default_factory=dict)
    mac: str = ""
    demo: bool = False  # a demo store of made-up records: the published demo password is allowed in it
    # The audit anchor: the newest audit event's id and hash at the last sign-out or lock (`{"id", "hash"}`).
    # Kept outside the database, under the file's HMAC, so a trail cut back later is seen (core.db.audit).
    anchor: dict | None = None

    # ----- lookup -------------------------------------------------------
    def slot_for_username(self, username: str) -> Slot | None:
        wanted = normalise_username(username)
        for slot in self.slots.values():
            if slot.slot_id != RECOVERY_SLOT_ID and normalise_username(slot.username) == wanted:
                return slot
        return None

    @property
    def kdf(self) -> KdfParams:
        """The store's chosen cost: new and rewrapped slots use the same as the recovery slot."""
        slot = self.slots.get(RECOVERY_SLOT_ID)
        return slot.kdf if slot else DEFAULT_KDF

    def recovery_slot(self) -> Slot:
        slot = self.slots.get(RECOVERY_SLOT_ID)
        if slot is None:
            raise SlotFileTampered()
        return slot

    # ----- integrity ----------------------------------------------------
    def _mac_for(self, key: KeyHolder) -> str:
        mac_key = hashlib.sha256(b"lantern slot-file mac v1")
        mac_key.update(key.view())  # no bytes copy of the key
        body = {"store_id": self.store_id, "slots": [s.body() for s in self._ordered()], **self._extras()}
        return hmac.new(mac_key.digest(), _canonical(body), hashlib.sha256).hexdigest()

    def _extras(self) -> dict:
        """The optional fields, present only when set, so files written before they existed still verify."""
        extras: dict = {"demo": True} if self.demo else {}
        if self.anchor is not None:
            extras["audit_anchor"] = {"id": self.anchor["id"], "hash": self.anchor["hash"]}
        return extras

    def seal(self, key: KeyHolder) -> None:
        self.mac = self._mac_for(key)

    def verify(self, key: KeyHolder) -> None:
        if not hmac.compare_digest(self.mac, self._mac_for(key)):
            raise SlotFileTampered()

    def _ordered(self) -> list[Slot]:
        return [self.slots[k] for k in sorted(self.slots)]

    # ----- file I/O -----------------------------------------------------
    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT, "version": FORMAT_VERSION, "store_id": self.store_id,
            "slots": [s.to_json() for s in self._ordered()], "mac": self.mac, **self._extras(),
        }
        return json.dumps(doc, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> SlotFile:
        try:
            doc = json.loads(data.decode("utf-8"))
            if doc.get("format") != FORMAT or doc.get("version") != FORMAT_VERSION:
                raise ValueError("format")
            result = cls(store_id=str(doc["store_id"]), mac=str(doc["mac"]), demo=doc.get("demo") is True,
                         anchor=_anchor(doc.get("audit_anchor")))
            for item in doc["slots"]:
                checksum = item.pop("checksum")
                if hashlib.sha256(_canonical(item)).hexdigest() != checksum:
                    raise ValueError("checksum")
                kdf = item["kdf"]
                if kdf.get("alg") != "argon2id":
                    raise ValueError("kdf")
                params = KdfParams(int(kdf["t"]), int(kdf["m"]), int(kdf["p"]))
                if (params.time_cost < MINIMUM_KDF.time_cost or params.memory_kib < MINIMUM_KDF.memory_kib
                        or params.parallelism < 1):
                    raise ValueError("weak kdf")
                slot = Slot(str(item["id"]), str(item["username"]), _unb64(item["salt"]), params,
                            _unb64(item["nonce"]), _unb64(item["wrapped"]), _unb64(item.get("check", "")))
                if (len(slot.salt) != 16 or len(slot.nonce) != 12 or slot.slot_id in result.slots
                        or len(slot.check) not in (0, 32)):
                    raise ValueError("shape")
                result.slots[slot.slot_id] = slot
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise SlotFileTampered() from None
        return result

    def write(self, folder: Path) -> None:
        atomic_write(folder / SLOT_FILE_NAME, self.to_bytes(), private=True)

    @classmethod
    def read(cls, folder: Path) -> SlotFile:
        path = folder / SLOT_FILE_NAME
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SlotFileTampered(
                "The store's key file is missing, so nobody can sign in. "
                "Ask your administrator to restore the store from a backup."
            ) from None
        return cls.from_bytes(data)


CHECK_LABEL = b"lantern slot key check v1"


def _anchor(value) -> dict | None:
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"id", "hash"} or type(value["id"]) is not int
            or value["id"] < 1 or not isinstance(value["hash"], str) or len(value["hash"]) != 64):
        raise ValueError("anchor")
    return {"id": value["id"], "hash": value["hash"]}


def _key_check(wrapping: bytes) -> bytes:
    return hmac.new(wrapping, CHECK_LABEL, hashlib.sha256).digest()


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
