"""When the server cannot be reached, a nurse never loses a report (issue 16 item 5): it is kept on this PC,
encrypted under her password, and sent once, under the id the PC gave it, when the server is back. The server
here is one of this module's own, so it can be stopped and started again."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.db.models import Incident
from core.db.store import unit_of_work
from core.dto import FormState
from core.errors import ServerUnreachable, WrongPassword
from core.security.keyslots import MINIMUM_KDF
from core.services import drafts, incidents, outbox
from tests.core.helpers_common import draft
from tests.pg.conftest import PASSWORDS, build_trust


@pytest.fixture
def trust_of_own(own_server):
    name = f"t_{uuid.uuid4().hex[:12]}"
    with own_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield from build_trust(own_server, name)


def test_a_report_sent_while_the_server_is_down_is_kept_here_then_sent_once(own_server, trust_of_own):
    sign_in, oak = trust_of_own
    store, nurse = sign_in("nurse")
    kept = outbox.open_outbox(store.location, nurse.username, PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    report = draft(oak, description="Synthetic: kept while the server was down.")
    send_id = str(uuid.uuid4())
    own_server.pause()
    try:
        with pytest.raises(ServerUnreachable, match="cannot reach"):
            incidents.submit_report(store, nurse, report, send_id=send_id)
        outbox.keep_report(kept, send_id, oak, drafts.draft_to_payload(report))
        kept.close()
        raw = b"".join(p.read_bytes() for p in kept.folder.iterdir() if p.is_file())
        assert b"kept while the server" not in raw  # encrypted on disk
        with pytest.raises(WrongPassword):
            outbox.open_outbox(store.location, nurse.username, "not her password at all", kdf=MINIMUM_KDF)
        kept = outbox.open_outbox(store.location, nurse.username, PASSWORDS["nurse"], kdf=MINIMUM_KDF)
        assert outbox.send_kept(kept, store, nurse) == []  # still down: nothing sent, nothing dropped
        assert [k[0] for k in outbox.kept_reports(kept)] == [send_id]
    finally:
        own_server.resume()
    sent = outbox.send_kept(kept, store, nurse)
    assert [s.incident_id for s in sent] == [send_id] and sent[0].status == "submitted"
    assert outbox.kept_reports(kept) == [] and outbox.send_kept(kept, store, nurse) == []
    with unit_of_work(store, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
    kept.close()


def test_the_form_is_kept_while_the_server_is_down(own_server, trust_of_own):
    sign_in, oak = trust_of_own
    store, nurse = sign_in("nurse")
    kept = outbox.open_outbox(store.location, nurse.username, PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    try:
        half = draft(oak, description="Synthetic: half typed.")
        half = replace(half, occurred_at=half.occurred_at.replace(microsecond=0))  # kept to the second
        typed = FormState(half, step=2, time_text="14:3")
        own_server.pause()
        try:
            with pytest.raises(ServerUnreachable):
                drafts.save_form(store, nurse, typed)
            outbox.keep_form(kept, typed)
        finally:
            own_server.resume()
        assert outbox.kept_form(kept) == typed
    finally:
        kept.close()


def test_her_draft_already_on_the_server_then_kept_is_sent_as_that_draft_never_a_copy(own_server, trust_of_own):
    """A report started on the server (a draft with its reference), then sent while the server is down: kept here
    with the draft's id, and when sent it is that draft that is submitted, never a second incident beside a stale
    draft; a retry that finds it sent already sends nothing more."""
    sign_in, oak = trust_of_own
    store, nurse = sign_in("nurse")
    started = incidents.create_draft(store, nurse, draft(oak, description="Synthetic: started on the server."))
    with own_server.admin() as conn:  # the test server commits lazily: write everything down before the power cut
        conn.execute("CHECKPOINT")
    kept = outbox.open_outbox(store.location, nurse.username, PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    finished = draft(oak, description="Synthetic: finished while the server was down.")
    send_id = str(uuid.uuid4())
    own_server.pause()
    try:
        assert outbox.submit_or_keep(kept, store, nurse, finished, started.incident_id, send_id) is None
        assert [k[0] for k in outbox.kept_reports(kept)] == [send_id]
    finally:
        own_server.resume()
    sent = outbox.send_kept(kept, store, nurse)
    assert [s.incident_id for s in sent] == [started.incident_id] and sent[0].reference == started.reference
    assert sent[0].status == "submitted" and sent[0].draft.description == "Synthetic: finished while the server was down."
    again = incidents.submit_report(store, nurse, finished, started.incident_id, send_id=send_id)  # a retry
    assert again.incident_id == started.incident_id
    with unit_of_work(store, write=False) as session:
        assert session.scalars(select(Incident.status)).all() == ["submitted"]  # one report, no stale draft
    kept.close()


def test_a_kept_form_comes_back_to_her_draft_on_the_server(own_server, trust_of_own):
    sign_in, oak = trust_of_own
    store, nurse = sign_in("nurse")
    started = incidents.create_draft(store, nurse, draft(oak))
    kept = outbox.open_outbox(store.location, nurse.username, PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    try:
        typed = FormState(draft(oak, description="Synthetic: typed while down."), step=3, time_text="")
        outbox.keep_form(kept, typed, started.incident_id)
        assert outbox.kept_form_and_draft(kept) == (outbox.kept_form(kept), started.incident_id)
        outbox.keep_form(kept, typed)  # a new report: no draft on the server
        assert outbox.kept_form_and_draft(kept)[1] is None
    finally:
        kept.close()


def test_after_a_reset_the_locked_outbox_is_counted_opened_with_the_previous_password_or_set_aside():
    """After the lead resets her password, the new one cannot open what was kept here: she is told how many
    reports and forms wait (numbers only, readable without the password), her previous password opens them and
    locks them with the new one from then on; a wrong one is refused; set aside, nothing is deleted."""
    location = f"postgresql://127.0.0.1:5/t_{uuid.uuid4().hex[:12]}"  # no server needed: the outbox is this PC's
    old, new = PASSWORDS["nurse"], "a new passphrase after the reset"
    kept = outbox.open_outbox(location, "nurse", old, kdf=MINIMUM_KDF)
    report = draft(4, description="Synthetic: kept before the reset.")
    outbox.keep_report(kept, str(uuid.uuid4()), 4, drafts.draft_to_payload(report))
    outbox.keep_form(kept, FormState(draft(4), step=1, time_text=""))
    kept.close()
    counts = (kept.folder / outbox.COUNTS_FILE).read_text()
    assert "kept before" not in counts and "Synthetic" not in counts
    assert outbox.open_at_sign_in(location, "nurse", new) == (None, outbox.LockedOutbox(reports=1, forms=1))
    with pytest.raises(WrongPassword, match="not the password these reports were kept with"):
        outbox.open_with_previous(location, "nurse", "not it either", new)
    opened = outbox.open_with_previous(location, "nurse", old, new)
    opened.close()
    again, locked = outbox.open_at_sign_in(location, "nurse", new)  # the new password opens it from now on
    assert locked is None and [r[2]["description"] for r in outbox.kept_reports(again)] == [report.description]
    again.close()

    aside = outbox.set_aside(location, "nurse")  # she does not know it: kept on this PC, untouched
    assert not kept.folder.exists() and (aside / "keyslots.json").exists() and (aside / outbox.COUNTS_FILE).exists()
    assert outbox.locked_outbox(location, "nurse") is None  # a new one is made at the next sign-in
    fresh, locked = outbox.open_at_sign_in(location, "nurse", "yet another password")
    assert locked is None and outbox.kept_reports(fresh) == []
    fresh.close()


def test_an_outbox_known_to_hold_nothing_is_set_aside_and_a_new_one_made_at_sign_in():
    location = f"postgresql://127.0.0.1:5/t_{uuid.uuid4().hex[:12]}"
    kept = outbox.open_outbox(location, "nurse", PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    outbox.keep_form(kept, FormState(draft(4), step=1, time_text=""))
    outbox.forget_form(kept)  # it reached the server: nothing kept now
    kept.close()
    fresh, locked = outbox.open_at_sign_in(location, "nurse", "the password after a reset")
    assert locked is None and fresh is not None and outbox.kept_reports(fresh) == []
    fresh.close()
    aside = [p for p in kept.folder.parent.iterdir() if p.name.startswith(kept.folder.name + "-locked-")]
    assert len(aside) == 1 and (aside[0] / "keyslots.json").exists()  # the old one is still on this PC


def test_a_kept_report_sent_later_clears_its_own_old_autosave_but_not_the_form_she_started_since(own_server,
                                                                                                   trust_of_own):
    """The kept report's own autosave on the server (from before the server went down) goes when it is sent, so
    its words never come back to be sent twice; but the form she started once the server was back, and autosaved
    to it, is hers to finish: sending the kept report must not clear it."""
    sign_in, oak = trust_of_own
    store, nurse = sign_in("nurse")
    report = draft(oak, description="Synthetic: kept at Send.")
    drafts.save_form(store, nurse, FormState(report, step=5, time_text=""))  # its autosave, before the outage
    with own_server.admin() as conn:
        conn.execute("CHECKPOINT")
    kept = outbox.open_outbox(store.location, nurse.username, PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    own_server.pause()
    try:
        assert outbox.submit_or_keep(kept, store, nurse, report, None, str(uuid.uuid4())) is None
    finally:
        own_server.resume()
    assert len(outbox.send_kept(kept, store, nurse)) == 1
    assert drafts.load_form(store, nurse) is None  # the old autosave of the report sent went with it

    own_server.pause()
    try:
        outbox.submit_or_keep(kept, store, nurse, report, None, str(uuid.uuid4()))
    finally:
        own_server.resume()
    with kept.engine.begin() as conn:  # kept a while ago (the clock has seconds): before the form she starts now
        conn.execute(outbox.KEPT.update().values(kept_at="2020-01-01T00:00:00+00:00"))
    started = FormState(draft(oak, description="Synthetic: the next one, half written."), step=2, time_text="")
    drafts.save_form(store, nurse, started)  # the server is back: her new form autosaves to it
    assert len(outbox.send_kept(kept, store, nurse)) == 1
    saved = drafts.load_form(store, nurse)
    assert saved is not None and saved.form.draft.description == "Synthetic: the next one, half written."
    kept.close()
