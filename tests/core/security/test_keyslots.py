"""Key slots: Argon2id (RFC 9106 test vector, cost floor), AES-GCM wrapping bound to slot id and username,
the slot-file checksums and HMAC, atomic writes, recovery-key format."""

from __future__ import annotations

import base64
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import fs
from core.errors import SlotFileTampered, WrongPassword
from core.fs import atomic_write
from core.security.keys import KeyHolder, new_recovery_key, normalise_recovery_key
from core.security.keyslots import DEFAULT_KDF, MINIMUM_KDF, RECOVERY_SLOT_ID, SLOT_FILE_NAME, KdfParams, Slot, SlotFile

# A deliberately cheap KDF for pure unit tests of the wrapping format (never written to a store:
# SlotFile.from_bytes refuses anything below MINIMUM_KDF, which a test below checks).
CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


def test_argon2id_rfc9106_test_vector():
    """RFC 9106 §5.3 (Argon2id, with secret and associated data) through the argon2-cffi binding."""
    from argon2.low_level import ARGON2_VERSION, Type, core, ffi, lib

    out = ffi.new("uint8_t[]", 32)
    keep = [ffi.new("uint8_t[]", b) for b in (b"\x01" * 32, b"\x02" * 16, b"\x03" * 8, b"\x04" * 12)]
    ctx = ffi.new("argon2_context *", dict(
        version=ARGON2_VERSION, out=out, outlen=32, pwd=keep[0], pwdlen=32, salt=keep[1], saltlen=16,
        secret=keep[2], secretlen=8, ad=keep[3], adlen=12, t_cost=3, m_cost=32, lanes=4, threads=4,
        allocate_cbk=ffi.NULL, free_cbk=ffi.NULL, flags=lib.ARGON2_DEFAULT_FLAGS))
    assert core(ctx, Type.ID.value) == 0
    assert bytes(ffi.buffer(out, 32)).hex() == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"


def test_cost_floor_is_rfc9106_second_option():
    assert (MINIMUM_KDF.time_cost, MINIMUM_KDF.memory_kib, MINIMUM_KDF.parallelism) == (3, 64 * 1024, 4)
    assert DEFAULT_KDF.time_cost >= 3 and DEFAULT_KDF.memory_kib >= 64 * 1024 and DEFAULT_KDF.parallelism >= 1


def test_store_slots_meet_floor_and_have_unique_salts(template, password):
    slots = SlotFile.read(template.folder)
    assert RECOVERY_SLOT_ID in slots.slots and len(slots.slots) == 7
    salts = [s.salt for s in slots.slots.values()]
    nonces = [s.nonce for s in slots.slots.values()]
    assert all(len(s) == 16 for s in salts) and len(set(salts)) == len(salts)
    assert len(set(nonces)) == len(nonces)
    for slot in slots.slots.values():
        assert slot.kdf.time_cost >= 3 and slot.kdf.memory_kib >= 64 * 1024 and slot.kdf.parallelism >= 1
        assert len(slot.wrapped) == 32 + 16  # key + GCM tag
    raw = (template.folder / SLOT_FILE_NAME).read_text()
    assert password not in raw


def test_wrap_unwrap_round_trip_and_wrong_secret():
    key = KeyHolder.generate()
    slot = Slot.wrap("s1", "nurse", "a long enough secret", key, CHEAP)
    assert slot.unwrap("a long enough secret").raw() == key.raw()
    with pytest.raises(WrongPassword):
        slot.unwrap("a long enough secreT")


@pytest.mark.parametrize("field_name", ["slot_id", "username"])
def test_slot_id_and_username_are_bound(field_name):
    key = KeyHolder.generate()
    slot = Slot.wrap("s1", "nurse", "a long enough secret", key, CHEAP)
    setattr(slot, field_name, "other")
    # The right password passes the key check, so the failed AES-GCM tag means the slot was edited.
    with pytest.raises(SlotFileTampered):
        slot.unwrap("a long enough secret")
    with pytest.raises(WrongPassword):
        slot.unwrap("some other long secret")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(part=st.sampled_from(["salt", "nonce", "wrapped"]), data=st.data())
def test_any_bit_flip_in_a_slot_fails(part, data):
    key = KeyHolder(b"k" * 32)
    slot = Slot.wrap("s1", "nurse", "a long enough secret", key, CHEAP)
    blob = bytearray(getattr(slot, part))
    index = data.draw(st.integers(0, len(blob) - 1))
    bit = data.draw(st.integers(0, 7))
    blob[index] ^= 1 << bit
    setattr(slot, part, bytes(blob))
    # An edited salt changes the derived key itself (reads as a wrong password); an edited nonce or wrapped key
    # passes the key check and then fails the tag (reads as an altered key file).
    with pytest.raises(WrongPassword if part == "salt" else SlotFileTampered):
        slot.unwrap("a long enough secret")


def _slot_file(kdf=MINIMUM_KDF) -> tuple[SlotFile, KeyHolder]:
    key = KeyHolder.generate()
    sf = SlotFile(store_id="store-1")
    sf.slots[RECOVERY_SLOT_ID] = Slot.wrap(RECOVERY_SLOT_ID, "", "recovery secret value", key, kdf)
    sf.slots["u1"] = Slot.wrap("u1", "nurse", "a long enough secret", key, kdf)
    sf.seal(key)
    return sf, key


def test_slot_file_round_trip_and_hmac():
    sf, key = _slot_file()
    again = SlotFile.from_bytes(sf.to_bytes())
    again.verify(key)
    assert again.slot_for_username("NURSE ").slot_id == "u1"
    again.store_id = "store-2"
    with pytest.raises(SlotFileTampered):
        again.verify(key)
    with pytest.raises(SlotFileTampered):
        SlotFile.from_bytes(sf.to_bytes()).verify(KeyHolder.generate())


def _mutate(sf: SlotFile, change) -> bytes:
    doc = json.loads(sf.to_bytes())
    change(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("change", [
    lambda d: d.update(format="other"),
    lambda d: d.update(version=2),
    lambda d: d["slots"][0].update(salt=base64.b64encode(b"short").decode()),
    lambda d: d["slots"][0].update(wrapped="not base64!"),
    lambda d: d["slots"].append(dict(d["slots"][0])),  # duplicate id
    lambda d: d["slots"][0].pop("checksum"),
    lambda d: d.pop("store_id"),
], ids=["format", "version", "salt-length", "bad-base64", "duplicate", "no-checksum", "no-store-id"])
def test_malformed_slot_files_are_tampered(change):
    sf, _key = _slot_file()
    with pytest.raises(SlotFileTampered):
        SlotFile.from_bytes(_mutate(sf, change))


def test_garbage_slot_file_is_tampered():
    for data in (b"", b"\xff\xfe", b"[]", b"{}", os.urandom(200)):
        with pytest.raises(SlotFileTampered):
            SlotFile.from_bytes(data)


def test_weak_kdf_in_file_refused():
    """An attacker cannot lower the cost in the file to speed up guessing: the file is refused."""
    sf, _ = _slot_file(kdf=CHEAP)
    with pytest.raises(SlotFileTampered):
        SlotFile.from_bytes(sf.to_bytes())


def test_recovery_slot_required():
    sf, _ = _slot_file()
    del sf.slots[RECOVERY_SLOT_ID]
    with pytest.raises(SlotFileTampered):
        sf.recovery_slot()


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "f.json"
    atomic_write(path, b"old")
    atomic_write(path, b"new contents")
    assert path.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write(path, b"old")

    def boom(*_a):
        raise OSError("simulated crash before replace")

    monkeypatch.setattr(fs.os, "replace", boom)
    with pytest.raises(OSError):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_recovery_key_format_and_normalisation():
    key = new_recovery_key()
    groups = key.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    assert normalise_recovery_key(key.lower().replace("-", " ")) == key
    assert normalise_recovery_key("  " + " ".join(groups).lower() + "\n") == key
    assert new_recovery_key() != key


def test_key_holder_zero_and_repr():
    key = KeyHolder.generate()
    hex_key = key.hex()
    assert hex_key not in repr(key) and "hidden" in repr(key)
    key.zero()
    assert key.is_zeroed
    with pytest.raises(RuntimeError):
        key.raw()
    with pytest.raises(ValueError):
        KeyHolder(b"short")
