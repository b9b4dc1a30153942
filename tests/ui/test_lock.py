"""Lock and sign-in: Ctrl+L and idle lock hide the window and close the store; the open form comes back;
wrong-password, throttled and damaged-store messages appear in the dialog."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from shiboken6 import isValid
from sqlalchemy import select

from core.db.engine import DB_FILE_NAME
from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.services import accounts, drafts
from tests.ui.nurse_helpers import WAIT, alt, form_of, press, sign_in, type_text
from ui.app import AppController

TEXT = "Synthetic: AB touched CD's arm in the corridor and made a sexual remark."


def audit_actions(folder, password) -> list[str]:
    store, _admin = accounts.sign_in(folder, "admin", password)
    try:
        with unit_of_work(store, write=False) as session:
            return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    finally:
        store.close()


def start_typing(qtbot, window):
    form = form_of(window)
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_Down, times=2)
    press(qtbot, Qt.Key.Key_Space)                  # Sexual assault (touching)
    for _ in range(4):
        alt(qtbot, Qt.Key.Key_N)
    type_text(qtbot, TEXT)
    return form


def test_ctrl_l_locks_and_the_form_comes_back_after_sign_in(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    folder = store.folder
    controller = AppController(folder)
    window = sign_in(qtbot, controller, "nurse", password)
    form = start_typing(qtbot, window)
    open_store = controller.session.store
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible() and controller.window is None
    assert not open_store.is_open and controller.session is None
    dialog = controller.dialog
    assert "locked itself" in dialog.message.text() and dialog.username.text() == ""  # not pre-filled by default
    del form

    window = sign_in(qtbot, controller, "nurse", password)
    form = form_of(window)
    qtbot.waitUntil(lambda: form.description.description.toPlainText() == TEXT, timeout=WAIT)
    assert form.current_draft().types == ("SS-SA",)
    assert form.stack.currentWidget() is form.description and "unfinished report is back" in form.banner.text()
    controller.shutdown()
    log = audit_actions(folder, password)
    assert "lock" in log and log.count("draft.autosave") == 1 and "draft.restore" in log and "unlock" in log


def test_idle_timeout_locks(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    open_store = controller.session.store
    controller.idle.set_minutes(0.002)  # about a tenth of a second
    qtbot.waitUntil(lambda: controller.window is None, timeout=WAIT)
    assert not (isValid(window) and window.isVisible()) and not open_store.is_open
    assert controller.dialog.isVisible()
    assert audit_actions(store.folder, password)[-2:] == ["lock", "sign_in"]  # the last is the admin reading the audit


def test_draft_saved_by_the_timer_too(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    form = start_typing(qtbot, window)
    form.save_now()  # what the 10-second timer does
    assert controller.runner.wait(2 * WAIT)  # a loaded CI machine can take a while to run the lane's queue
    try:
        qtbot.waitUntil(lambda: form.saved.text().startswith("Draft saved"), timeout=WAIT)
    except Exception:
        raise AssertionError(f"saved label: {form.saved.text()!r} dirty={form.dirty}") from None

    assert form.autosave.interval() <= 10_000 and form.autosave.isActive()
    nurse_store = controller.session.store
    saved = drafts.load_form(nurse_store, controller.session.actor)
    assert saved.form.draft.description == TEXT
    controller.shutdown()


def test_wrong_password_then_throttled(qtbot, store_folder):
    controller = AppController(store_folder)
    dialog = controller.show_sign_in("nurse")
    qtbot.waitExposed(dialog)
    for attempt in range(6):
        dialog.password.setFocus()
        qtbot.keyClicks(dialog.password, "not the password")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=WAIT)
        if attempt == 0:
            assert dialog.message.text() == "The username or password is not right. Check them and try again."
    # The wait counts down from 30 s as the clock runs: a loaded machine may show 29 by the time it is read.
    assert re.match(r"Too many failed sign-ins for this account\. Wait (29|30) seconds", dialog.message.text())
    assert dialog.password.text() == "" and controller.window is None


def test_damaged_store_message(qtbot, store_folder, password):
    db = store_folder / DB_FILE_NAME
    data = bytearray(db.read_bytes())
    data[:4096] = b"\x00" * 4096
    db.write_bytes(bytes(data))
    controller = AppController(store_folder)
    dialog = controller.show_sign_in("nurse")
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=WAIT)
    assert "damaged" in dialog.message.text() and "backup" in dialog.message.text()


def test_activity_while_signed_in_restarts_the_idle_countdown(qtbot, make_store, password):
    """The idle watcher's event filter is installed at sign-in (not before, where it slowed the sign-in
    window) and a key press while signed in still starts the countdown again."""
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    timer = controller.idle.timer
    assert timer.isActive()
    timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse 5-minute timer reports its remaining time loosely
    timer.start()
    qtbot.waitUntil(lambda: timer.remainingTime() < timer.interval() - 200, timeout=WAIT)
    before = timer.remainingTime()
    qtbot.keyClick(window, Qt.Key.Key_Shift)
    assert timer.remainingTime() > before
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # lock: the watcher stops
    assert not timer.isActive()
    controller.shutdown()
