"""Reports kept on this PC while the trust's server cannot be reached (core layer; issue 16 item 5).

A nurse mid-report never loses it. While Lantern works on a server store, each person has a small encrypted
SQLCipher file on this PC (the outbox), keyed like the embedded store: a random key wrapped by Argon2id from the
person's password (core.security.keyslots), so nothing in it is readable without that password. When the server
cannot be reached, the form's autosave and any report the person sends go there, with the id the PC made for the
report (`send_id`); once the server answers again, `send_kept` sends each one with that id, which the server
takes once whatever happened to earlier tries (incidents.submit_report), and only then removes it here.

The outbox is per server and per person (its folder's name comes from both) under the user's data folder. A
password changed in Lantern re-wraps it (`rewrap`). After a password reset by the safeguarding lead the new password
cannot open it, by design: `locked_outbox` says how many reports and forms it holds (from a small plain count kept
beside it, `kept.json`: numbers only, never a word of a report), `open_with_previous` opens it with the previous
password and re-wraps it to the new one, and `set_aside` keeps it on this PC, untouched, under another name, so a new
outbox can be made; nothing in it is ever deleted unread.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.engine import Engine

from core import paths
from core.clock import now_db
from core.db.engine import DB_FILE_NAME, make_engine
from core.dto import Actor, FormState, IncidentDetail, IncidentDraft
from core.errors import ServerUnreachable, StorageFailure, WrongPassword
from core.fs import atomic_write
from core.security.keys import KeyHolder
from core.security.keyslots import DEFAULT_KDF, KdfParams, Slot, SlotFile
from core.services import drafts, incidents

FORM = "form"      # the open form's autosave, one per person
REPORT = "report"  # a report the person sent while the server was out of reach
COUNTS_FILE = "kept.json"  # how many of each are kept: readable without the password (numbers only)

_meta = MetaData()
KEPT = Table("kept", _meta, Column("send_id", String(36), primary_key=True), Column("kind", String(10)),
             Column("ward_id", String(12)), Column("payload", Text), Column("kept_at", String(32)))


def folder_for(location: str, username: str) -> Path:
    digest = hashlib.sha256(f"{location.strip()}\n{username}".encode()).hexdigest()[:24]
    return paths.data_dir() / "outbox" / digest


@dataclass
class Outbox:
    folder: Path
    slots: SlotFile
    key: KeyHolder
    engine: Engine

    def close(self) -> None:
        self.engine.dispose()
        self.key.zero()


def open_outbox(location: str, username: str, password: str, *, kdf: KdfParams = DEFAULT_KDF) -> Outbox:
    """Open this person's outbox for the server at `location`, making it the first time. WrongPassword if the
    password does not open an existing one (changed elsewhere, or reset)."""
    folder = folder_for(location, username)
    if (folder / DB_FILE_NAME).exists():
        slots = SlotFile.read(folder)
        key = slots.slots[username].unwrap(password)
        slots.verify(key)
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix":
            os.chmod(folder, 0o700)
        key = KeyHolder.generate()
        slots = SlotFile(store_id=folder.name)
        slots.slots[username] = Slot.wrap(username, username, password, key, kdf)
        slots.seal(key)
        slots.write(folder)
        os.close(os.open(folder / DB_FILE_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    engine = make_engine(folder / DB_FILE_NAME, key, pool_size=1, wal=False)
    _meta.create_all(engine)
    return Outbox(folder, slots, key, engine)


def rewrap(outbox: Outbox, username: str, new_password: str) -> None:
    """After a password change: the outbox opens with the new password from now on."""
    outbox.slots.slots[username] = Slot.wrap(username, username, new_password, outbox.key, outbox.slots.kdf)
    outbox.slots.seal(outbox.key)
    try:
        outbox.slots.write(outbox.folder)
    except OSError:
        raise StorageFailure() from None


def _put(outbox: Outbox, send_id: str, kind: str, ward_id: int, payload: dict) -> None:
    with outbox.engine.begin() as conn:
        conn.execute(delete(KEPT).where(KEPT.c.send_id == send_id))
        conn.execute(insert(KEPT).values(send_id=send_id, kind=kind, ward_id=str(ward_id),
                                         payload=json.dumps(payload), kept_at=now_db()))
    _note_counts(outbox)


def _note_counts(outbox: Outbox) -> None:
    """Write down how many reports and forms are kept, for the day the password cannot open them (a reset)."""
    with outbox.engine.connect() as conn:
        kinds = list(conn.execute(select(KEPT.c.kind)).scalars())
    counts = {"reports": kinds.count(REPORT), "forms": kinds.count(FORM)}
    try:
        atomic_write(outbox.folder / COUNTS_FILE, json.dumps(counts).encode(), private=True)
    except OSError:
        pass  # only a courtesy for later: the kept reports themselves are safe


DRAFT_ID = "draft_id"  # in a kept payload: the id of her draft already on the server, if the form had one


def keep_form(outbox: Outbox, form: FormState, draft_id: str | None = None) -> None:
    """The open form's autosave while the server is out of reach (one per person: the newest replaces it), with
    the id of the draft on the server it edits, if any, so it comes back to that draft."""
    _put(outbox, FORM, FORM, form.draft.ward_id, {**drafts.form_to_payload(form), DRAFT_ID: draft_id})


def kept_form(outbox: Outbox) -> FormState | None:
    kept = kept_form_and_draft(outbox)
    return kept[0] if kept else None


def kept_form_and_draft(outbox: Outbox) -> tuple[FormState, str | None] | None:
    """The kept form and the id of the server draft it edits (None for a new report)."""
    with outbox.engine.connect() as conn:
        row = conn.execute(select(KEPT.c.payload, KEPT.c.ward_id).where(KEPT.c.send_id == FORM)).first()
    if row is None:
        return None
    payload = json.loads(row[0])
    return drafts.form_from_payload(payload, int(row[1])), _draft_id(payload)


def _draft_id(payload: dict) -> str | None:
    value = payload.get(DRAFT_ID)
    return value if isinstance(value, str) and value else None


def forget_form(outbox: Outbox) -> None:
    """The form reached the server again: the copy kept here is out of date."""
    with outbox.engine.begin() as conn:
        conn.execute(delete(KEPT).where(KEPT.c.send_id == FORM))
    _note_counts(outbox)


def keep_report(outbox: Outbox, send_id: str, ward_id: int, draft_payload: dict, draft_id: str | None = None) -> None:
    """A report the person sent while the server was out of reach, with the id it is to be sent under, and the id
    of her draft already on the server if the form was one (it is then that draft that is sent, never a new
    report beside it). The form's autosave goes: the report now holds every word."""
    with outbox.engine.begin() as conn:
        conn.execute(delete(KEPT).where(KEPT.c.send_id.in_([send_id, FORM])))
        conn.execute(insert(KEPT).values(send_id=send_id, kind=REPORT, ward_id=str(ward_id),
                                         payload=json.dumps({**draft_payload, DRAFT_ID: draft_id}),
                                         kept_at=now_db()))
    _note_counts(outbox)


def kept_reports(outbox: Outbox) -> list[tuple[str, int, dict]]:
    """(send_id, ward_id, draft payload) of every report waiting to be sent, oldest first."""
    return [row[:3] for row in _kept_rows(outbox)]


def _kept_rows(outbox: Outbox) -> list[tuple[str, int, dict, str]]:
    with outbox.engine.connect() as conn:
        rows = conn.execute(select(KEPT.c.send_id, KEPT.c.ward_id, KEPT.c.payload, KEPT.c.kept_at)
                            .where(KEPT.c.kind == REPORT).order_by(KEPT.c.kept_at)).all()
    return [(send_id, int(ward), json.loads(payload), kept_at) for send_id, ward, payload, kept_at in rows]


def submit_or_keep(outbox: Outbox | None, store, actor: Actor, draft: IncidentDraft, draft_id: str | None,
                   send_id: str | None) -> IncidentDetail | None:
    """The nurse's Send on a server: submit (her draft `draft_id` if the form is one), or, when the server cannot
    be reached, keep it here under `send_id` with that draft's id and return None. Without an outbox the
    ServerUnreachable is raised."""
    try:
        return incidents.submit_report(store, actor, draft, draft_id, send_id=send_id)
    except ServerUnreachable:
        if outbox is None:
            raise
    keep_report(outbox, send_id, draft.ward_id, drafts.draft_to_payload(draft), draft_id)
    return None


def send_kept(outbox: Outbox, store, actor: Actor) -> list[IncidentDetail]:
    """Send every kept report to the server under its own id, oldest first, removing each from this PC only once
    the server has it. Stops at the first ServerUnreachable (the rest wait for the next try); any other refusal
    (say, a ward the person no longer works on) is raised, and that report stays here."""
    sent = []
    for send_id, ward_id, payload, kept_at in _kept_rows(outbox):
        try:  # her draft already on the server is the one sent (or found sent already), never a copy beside it;
            # the form she has autosaved since it was kept is hers to finish, not cleared with it
            detail = incidents.submit_report(store, actor, drafts.draft_from_payload(payload, ward_id),
                                             _draft_id(payload), send_id=send_id, kept_at=kept_at)
        except ServerUnreachable:
            break
        with outbox.engine.begin() as conn:
            conn.execute(delete(KEPT).where(KEPT.c.send_id == send_id))
        _note_counts(outbox)
        sent.append(detail)
    return sent


@dataclass(frozen=True)
class LockedOutbox:
    """An outbox on this PC that the person's password does not open (it was reset since): how many reports and
    unfinished forms it holds, as last written down (None when not known: an outbox from before the count)."""

    reports: int | None
    forms: int | None


def locked_outbox(location: str, username: str) -> LockedOutbox | None:
    """What a kept outbox holds that the person's current password cannot open, without opening it; None if
    there is none, or it is known to hold nothing."""
    folder = folder_for(location, username)
    if not (folder / DB_FILE_NAME).exists():
        return None
    try:
        counts = json.loads((folder / COUNTS_FILE).read_text(encoding="utf-8"))
        reports, forms = int(counts["reports"]), int(counts["forms"])
    except (OSError, ValueError, KeyError, TypeError):
        return LockedOutbox(None, None)
    return LockedOutbox(reports, forms) if reports or forms else None


def open_with_previous(location: str, username: str, previous: str, new: str) -> Outbox:
    """Open the outbox with the person's previous password and re-wrap it to the new one, so it opens as usual
    from now on. WrongPassword, in words for this case, if `previous` does not open it either."""
    try:
        kept = open_outbox(location, username, previous)
    except WrongPassword:
        raise WrongPassword("That is not the password these reports were kept with. Check it and try again.") \
            from None
    try:
        rewrap(kept, username, new)
    except StorageFailure:
        kept.close()
        raise
    return kept


def set_aside(location: str, username: str) -> Path:
    """Keep a locked outbox on this PC, untouched, under another name, so a new one can be made for the new
    password. Never deletes it. Returns where it is now."""
    folder = folder_for(location, username)
    aside = folder.with_name(f"{folder.name}-locked-{datetime.now(UTC):%Y%m%d%H%M%S}")
    try:
        folder.rename(aside)
    except OSError:
        raise StorageFailure() from None
    return aside


def open_at_sign_in(location: str, username: str, password: str) -> tuple[Outbox | None, LockedOutbox | None]:
    """The person's outbox as she signs in: (outbox, None) as usual; (None, what it holds) when her password
    cannot open one that holds something (reset since: the app then asks for the previous password). One known
    to hold nothing is set aside, never deleted, and a new one made, so she can keep reports again."""
    try:
        return open_outbox(location, username, password), None
    except WrongPassword:
        locked = locked_outbox(location, username)
        if locked is not None:
            return None, locked
    set_aside(location, username)
    return open_outbox(location, username, password), None
