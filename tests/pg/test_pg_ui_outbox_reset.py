"""After the safeguarding lead resets a nurse's password, the reports she kept on this PC while the server was out
of reach are locked with her previous password (issue 16). Signing in, she is told how many wait and asked for her
previous password: it opens them and they are sent; if she does not know it, she is told plainly that they stay on
this PC, unreadable, and that she should report those incidents again. Driven by keyboard through the real windows
against a real throwaway PostgreSQL server."""

from __future__ import annotations

import os
import uuid

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from core.dto import FormState
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts, drafts, outbox
from tests.core.helpers_common import draft
from tests.pg.conftest import PASSWORDS
from tests.pg.test_pg_ui import controller, server_trust  # noqa: F401 - fixtures: this PC set to use the server
from tests.ui.conftest import announcements  # noqa: F401 - the screen-reader spy, a fixture
from tests.ui.nurse_helpers import WAIT, form_of, sign_in

CHOSEN = "violet harbour tram ledger quietly 93"


def kept_before_the_reset(location: str, oak: int, *, form: bool = False) -> None:
    """Last week, while the server was down, the nurse sent a report from this PC (and, with `form`, started
    another): kept here under her password."""
    kept = outbox.open_outbox(location, "nurse", PASSWORDS["nurse"], kdf=MINIMUM_KDF)
    report = draft(oak, description="Synthetic: kept before the reset.")
    outbox.keep_report(kept, str(uuid.uuid4()), oak, drafts.draft_to_payload(report))
    if form:
        outbox.keep_form(kept, FormState(draft(oak, description="Synthetic: half written before the reset."),
                                         step=4, time_text=""))
    kept.close()


def reset_by_the_lead(sign_in_as) -> str:
    """The administrator asks, the lead approves: the nurse's temporary password."""
    admin_store, admin = sign_in_as("admin")
    nurse_id = next(u.user_id for u in accounts.list_users(admin_store, admin) if u.username == "nurse")
    accounts.reset_password(admin_store, admin, nurse_id)
    lead_store, lead = sign_in_as("lead")
    request = next(r for r in accounts.list_access_requests(lead_store, lead) if r.username == "nurse")
    return accounts.decide_access_request(lead_store, lead, request.request_id, approve=True)


def sign_in_with_temporary(qtbot, controller, temp: str):  # noqa: F811
    """Sign in with the temporary password and choose a new one in the window that asks for it, by keyboard."""
    from ui.dialogs.signin import ChangePasswordDialog

    done: list[bool] = []

    def answer(tries: int = 400):
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ChangePasswordDialog) and not done:
            done.append(True)
            QTest.keyClicks(dialog.old, temp)
            QTest.keyClicks(dialog.new, CHOSEN)
            QTest.keyClicks(dialog.again, CHOSEN)
            QTest.keyClick(dialog.again, Qt.Key.Key_Return)
        elif tries > 0 and not done:
            QTimer.singleShot(50, lambda: answer(tries - 1))

    QTimer.singleShot(50, answer)
    window = sign_in(qtbot, controller, "nurse", temp)
    assert done
    qtbot.waitUntil(lambda: getattr(controller, "locked_dialog", None) is not None
                    and controller.locked_dialog.isVisible(), timeout=WAIT)
    return window, controller.locked_dialog


def test_her_previous_password_opens_the_kept_reports_and_they_are_sent(qtbot, controller, server_trust,  # noqa: F811
                                                                        announcements):  # noqa: F811
    from sqlalchemy import select

    from core.db.models import Incident
    from core.db.store import unit_of_work

    sign_in_as, oak, location = server_trust
    kept_before_the_reset(location, oak, form=True)
    window, dialog = sign_in_with_temporary(qtbot, controller, reset_by_the_lead(sign_in_as))
    assert dialog.intro.text().startswith("<b>1 report you sent and an unfinished report are kept on this PC")
    assert controller.session.outbox is None  # not opened: nothing is sent or lost yet
    QTest.keyClicks(dialog.previous, "not my previous password")
    QTest.keyClick(dialog.previous, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "not the password these reports were kept with" in dialog.message.text(), timeout=WAIT)
    assert dialog.previous.text() == "" and dialog.focusWidget() is dialog.previous
    QTest.keyClicks(dialog.previous, PASSWORDS["nurse"])
    QTest.keyClick(dialog.previous, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Opened."), timeout=WAIT)
    assert any(w is dialog.message and m.startswith("Opened.") and urgent for w, m, urgent in announcements)
    qtbot.waitUntil(lambda: window.kept_label.text().startswith("Your report kept on this PC has been sent"),
                    timeout=WAIT)
    store, lead = sign_in_as("lead")
    with unit_of_work(store, write=False) as session:
        sent = session.scalars(select(Incident)).all()
    assert len(sent) == 1 and sent[0].status == "submitted"
    form = form_of(window)  # the unfinished one is back in the form, to finish and send
    qtbot.waitUntil(lambda: form.description.description.toPlainText() == "Synthetic: half written before the reset.",
                    timeout=WAIT)
    QTest.keyClick(dialog.close_button, Qt.Key.Key_Space)
    assert not dialog.isVisible()
    reopened = outbox.open_outbox(location, "nurse", CHOSEN)  # locked with the new password from now on
    assert outbox.kept_reports(reopened) == []
    reopened.close()
    assert not any(PASSWORDS["nurse"] in m or CHOSEN in m for _w, m, _u in announcements)


def test_if_she_does_not_know_it_she_is_told_plainly_and_nothing_is_deleted(qtbot, controller, server_trust,  # noqa: F811
                                                                            announcements):  # noqa: F811
    sign_in_as, oak, location = server_trust
    kept_before_the_reset(location, oak)
    folder = outbox.folder_for(location, "nurse")
    window, dialog = sign_in_with_temporary(qtbot, controller, reset_by_the_lead(sign_in_as))
    dialog.unknown_button.setFocus()
    QTest.keyClick(dialog.unknown_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=WAIT)
    said = dialog.message.text()
    assert "report that incident again" in said and "stays on this PC" in said and "not been deleted" in said
    assert any(w is dialog.message and urgent for w, _m, urgent in announcements)
    aside = [p for p in folder.parent.iterdir() if p.name.startswith(folder.name + "-locked-")]
    assert len(aside) == 1 and (aside[0] / "keyslots.json").exists()  # kept on this PC, untouched
    assert controller.session.outbox is not None  # a new one: reports can be kept again from now on
    QTest.keyClick(dialog.close_button, Qt.Key.Key_Return)
    assert not dialog.isVisible()


SHOTS = os.environ.get("LANTERN_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_the_locked_reports_screenshots(qtbot, controller, server_trust):  # noqa: F811
    from pathlib import Path

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    sign_in_as, oak, location = server_trust
    kept_before_the_reset(location, oak)
    window, dialog = sign_in_with_temporary(qtbot, controller, reset_by_the_lead(sign_in_as))
    window.resize(1366, 768 - 48)
    qtbot.wait(300)
    dialog.grab().save(str(out / "server-kept-locked-ask.png"))
    QTest.keyClick(dialog.unknown_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=WAIT)
    qtbot.wait(300)
    dialog.grab().save(str(out / "server-kept-locked-not-known.png"))
