"""Issue 13 item 5, the screens: every new-password field shows the estimate as the person types, in plain words,
and its accessible description follows (the setup wizard's administrator password and the change-password dialog;
administrators never type a password for someone else: Lantern makes a temporary one)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core import paths
from tests.ui.nurse_helpers import alt, press, type_text
from tests.ui.test_setup_wizard import start
from ui.dialogs.signin import ChangePasswordDialog


def _typed(qtbot, field, text):
    field.setFocus()
    field.selectAll()
    press(qtbot, Qt.Key.Key_Delete)
    type_text(qtbot, text)


def test_the_change_password_dialog_says_how_strong_the_new_password_is_as_it_is_typed(qtbot, password):
    dialog = ChangePasswordDialog("Choose your own now.", username="nurse")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    assert "at least 12" in dialog.strength.text()
    _typed(qtbot, dialog.new, "monkey")
    assert "6 more characters" in dialog.strength.text()
    _typed(qtbot, dialog.new, "monkeymonkey")
    assert dialog.strength.text().startswith("Not accepted") and "Repeats" in dialog.strength.text()
    assert dialog.new.accessibleDescription() == dialog.strength.text()
    assert dialog.strength.accessibleDescription() == "Password strength"
    _typed(qtbot, dialog.new, "nurse station blue kettle")
    assert dialog.strength.text() == "Not accepted. Do not put your username in your password."
    _typed(qtbot, dialog.new, password)
    assert dialog.strength.text().startswith("Strong") and dialog.strength.acceptable
    assert dialog.new.accessibleDescription() == dialog.strength.text()


def test_the_setup_wizard_refuses_the_demo_password_and_says_so_while_typing(qtbot, password):
    _first_run, wizard, _runner = start(qtbot)
    alt(qtbot, Qt.Key.Key_N)  # a new store
    alt(qtbot, Qt.Key.Key_N)  # in the default folder
    wizard.organisation.ods.setFocus()
    type_text(qtbot, "RXX")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "Oak Ward")
    alt(qtbot, Qt.Key.Key_N)
    page = wizard.admin
    assert wizard.currentPage() is page
    _typed(qtbot, page.password, paths.DEMO_PASSWORD)
    assert "published password of the demo store" in page.strength.text()
    assert page.password.accessibleDescription() == page.strength.text()
    _typed(qtbot, page.username, "wardadmin")
    _typed(qtbot, page.password, "wardadmin kettle lighthouse")
    assert "username" in page.strength.text()  # the estimate follows the username field too
    _typed(qtbot, page.password, password)
    assert page.strength.acceptable
    _typed(qtbot, page.again, paths.DEMO_PASSWORD)
    _typed(qtbot, page.password, paths.DEMO_PASSWORD)
    alt(qtbot, Qt.Key.Key_C)  # Create the store: refused, in words naming why
    assert "published password" in page.message.text() and not page.busy
