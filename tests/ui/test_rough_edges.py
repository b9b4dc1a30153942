"""Rough edges a new user met (issue 11 items 10 to 13), on a real encrypted store through the real sign-in."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core import paths
from tests.ui.nurse_helpers import WAIT, form_of, press, sign_in
from tests.ui.test_lock import start_typing
from ui.app import AppController
from ui.dialogs.signin import SignInDialog
from ui.pages.home import HomePage


def test_problems_from_the_last_report_are_not_on_the_next_blank_form(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.submit()  # nothing filled in: every step shows what it needs
    assert form.types.errors["types"].text().startswith("Needed: Choose at least one type")
    form.reset()  # as after sending, or throwing the report away
    for index in range(len(form.steps)):
        form.go(index, focus=False)
        shown = [label.text() for step in form.steps for label in step.errors.values() if label.isVisibleTo(window)]
        assert shown == [], f"step {index + 1}"


def test_unlocking_goes_back_to_the_unfinished_report_and_escape_does_not_quit(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    start_typing(qtbot, window)
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    dialog = controller.dialog
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and controller.dialog is dialog  # still on the lock screen; Lantern not quitting
    window = sign_in(qtbot, controller, "nurse", password)
    assert window.tabs.currentWidget() is form_of(window)
    controller.shutdown()


def test_checking_the_password_is_not_shown_as_a_problem(qtbot):
    dialog = SignInDialog("/tmp/store")
    qtbot.addWidget(dialog)
    dialog.set_busy(True)
    assert dialog.message.text() == "Checking your password…" and dialog.message.objectName() != "error"
    dialog.set_busy(False)
    dialog.show_problem("That username and password do not match.")
    assert dialog.message.objectName() == "error"


def answer_next_box(qtbot, button, seen: list) -> None:
    def answer():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.button(button).click()
        else:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)


def test_signing_out_or_quitting_with_an_unsent_report_asks_first(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    start_typing(qtbot, window)
    seen: list[str] = []
    sign_out = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Sign out")
    answer_next_box(qtbot, QMessageBox.StandardButton.No, seen)
    sign_out.trigger()
    assert seen and "has not been sent" in seen[0]
    assert controller.session is not None and window.isVisible()  # No: still signed in
    assert window.quit_action.shortcut().toString() == "Ctrl+Q" and window.quit_action in \
        window.menuBar().actions()[0].menu().actions()
    answer_next_box(qtbot, QMessageBox.StandardButton.No, seen)
    window.quit_action.trigger()
    assert len(seen) == 2 and controller.session is not None
    answer_next_box(qtbot, QMessageBox.StandardButton.Yes, seen)
    sign_out.trigger()
    qtbot.waitUntil(lambda: controller.session is None and controller.dialog is not None, timeout=WAIT)
    controller.dialog.rejected.disconnect()
    controller.dialog.reject()


def test_the_lock_screen_names_the_last_user_only_when_the_pc_is_set_to(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    assert not paths.prefill_username()  # off by default: a shared ward PC
    for setting, expected in ((False, ""), (True, "nurse")):
        paths.machine_settings_path().parent.mkdir(parents=True, exist_ok=True)
        paths.machine_settings_path().write_text(json.dumps({"prefill_username": setting}))
        controller = AppController(store.folder)
        sign_in(qtbot, controller, "nurse", password)
        controller.lock()
        assert controller.dialog.username.text() == expected
        controller.dialog.rejected.disconnect()
        controller.dialog.reject()
        controller.shutdown()


def test_an_administrators_home_does_not_offer_ctrl_n(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    for username, offered in (("admin", False), ("nurse", True)):
        controller = AppController(store.folder)
        window = sign_in(qtbot, controller, username, password)
        home = window.page(HomePage)
        assert ("Ctrl+N" in home.info.text()) is offered and (home.report_button is not None) is offered
        controller.shutdown()
