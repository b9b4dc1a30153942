"""Issue 13 item 8: bad input that used to escape as a raw error, a wrong message or a live spreadsheet formula."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.errors import SlotFileTampered, StorageFailure, StoreDamaged, StoreReadOnly, ValidationError, WrongPassword
from core.exports.mapping import clean_text
from core.exports.nrls_csv import safe_cell
from core.security.keyslots import SLOT_FILE_NAME, SlotFile, _canonical
from core.security.throttle import Throttle
from core.services import accounts, incidents
from tests.core.helpers_common import draft

# ----- CSV: neutralise the final cell ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "\r=1+1", "\n=1+1", "\r\n@SUM(A1)", " =1+1", "   +1", "\t=1", "＝1+1", "＋1", "－1", "＠SUM(A1)",
    "\u3000=1+1", "\u00a0=1+1", "=1+1", "-2",
])
def test_formula_cells_are_neutralised_after_cleaning(value):
    cell = safe_cell(clean_text(value))
    assert cell.startswith("'"), repr(cell)


@pytest.mark.parametrize("value", ["Ward round", "a = b", "", "12", "Oak Ward - lounge"])
def test_plain_cells_are_left_alone(value):
    assert safe_cell(clean_text(value)) == value


# ----- a lone surrogate is refused at validation ------------------------------------------------------------


def test_lone_surrogate_is_refused_with_a_plain_message(fresh):
    nurse, ward = fresh.actors["nurse"], fresh.wards["Oak Ward"]
    bad = dataclasses.replace(draft(ward), description="Synthetic text \ud800 pasted")
    problems = incidents.validate_draft(bad, for_submit=False)
    assert "description" in problems and "cannot be saved" in problems["description"]
    with pytest.raises(ValidationError) as err:
        incidents.create_draft(fresh.store, nurse, bad)
    assert "description" in err.value.field_errors
    assert "\ud800" not in str(err.value)


# ----- change_password on a full disk -----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("this machine does not allow a tmpfs mount")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_change_password_on_a_full_disk_says_one_plain_sentence(template, small_disk, password):
    folder = small_disk / "store"
    shutil.copytree(template.folder, folder)
    store, nurse = accounts.sign_in(folder, "nurse", password)
    try:
        filler = _fill(small_disk)
        with pytest.raises(StorageFailure) as err:
            accounts.change_password(store, nurse, password, "a brand new synthetic passphrase 77")
        assert str(err.value) == accounts.PASSWORD_NOT_SAVED
        assert "Errno" not in str(err.value)
    finally:
        store.close()
    filler.unlink()
    with pytest.raises(WrongPassword):
        accounts.sign_in(folder, "nurse", "a brand new synthetic passphrase 77")
    again, _ = accounts.sign_in(folder, "nurse", password)
    again.close()


# ----- an edited slot with a recomputed checksum -------------------------------------------------------------


@pytest.mark.sqlcipher_only("the embedded store's key slots")
def test_edited_slot_with_recomputed_checksum_is_reported_as_altered_and_not_counted(fresh, password):
    fresh.store.close()
    path = fresh.folder / SLOT_FILE_NAME
    doc = json.loads(path.read_text())
    nurse_id = SlotFile.read(fresh.folder).slot_for_username("nurse").slot_id
    for item in doc["slots"]:
        if item["id"] == nurse_id:
            item.pop("checksum")
            wrapped = bytearray(SlotFile.from_bytes(path.read_bytes()).slots[nurse_id].wrapped)
            wrapped[0] ^= 1
            import base64

            item["wrapped"] = base64.b64encode(bytes(wrapped)).decode()
            item["checksum"] = hashlib.sha256(_canonical(item)).hexdigest()
    path.write_text(json.dumps(doc))
    with pytest.raises(SlotFileTampered) as err:
        accounts.sign_in(fresh.folder, "nurse", password)
    assert "altered or damaged" in str(err.value)
    assert Throttle(fresh.folder).failures("nurse") == 0
    with pytest.raises(WrongPassword):  # a wrong password on the same slot still reads as a wrong password
        accounts.sign_in(fresh.folder, "nurse", "not the password at all")


# ----- damage in a page read at sign-in ----------------------------------------------------------------------


def test_damage_found_while_signing_in_opens_read_only(template, tmp_path, password):
    """Flip one byte in each page in turn. Where the sign-in's own audit write is what meets the damage (the
    schema and the account were readable), the store must open read-only, so the damage banner shows and the
    restore wizard can be reached, instead of refusing everyone. Damage in the schema or in the account's own
    rows still refuses: without them Lantern cannot know who is signing in."""
    pages = (template.folder / "lantern.db").stat().st_size // 4096
    read_only = []
    for page in range(2, pages):
        folder = tmp_path / f"p{page}"
        shutil.copytree(template.folder, folder)
        with open(folder / "lantern.db", "r+b") as fh:
            fh.seek(page * 4096 + 100)
            byte = fh.read(1)
            fh.seek(page * 4096 + 100)
            fh.write(bytes([byte[0] ^ 0xFF]))
        try:
            store, actor = accounts.sign_in(folder, "admin", password)
        except StoreDamaged:
            continue
        if store.damaged:
            read_only.append(page)
            assert actor.username == "admin"
            with pytest.raises(StoreReadOnly):
                accounts.create_ward(store, actor, "Ash Ward")
        store.close()
        shutil.rmtree(folder)
    assert read_only, "no damaged page let anyone reach the read-only mode"


# ----- the store's logger is inside "lantern" ----------------------------------------------------------------


def test_store_damage_is_logged_under_lantern():
    from core.db import store as store_module

    assert store_module.log.name.startswith("lantern.")
    assert logging.getLogger("lantern") in _parents(store_module.log)


def _parents(logger: logging.Logger):
    while logger is not None:
        yield logger
        logger = logger.parent
