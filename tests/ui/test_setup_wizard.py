"""First-run setup wizard: create a store by keyboard, refuse a network share, open an existing store."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from core import paths
from core.db.location import REFUSAL
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts
from tests.ui.nurse_helpers import WAIT, alt, focused, press, type_text
from ui.dialogs.setup_wizard import PAGE_KEY, PAGE_LOCATION, FirstRun, default_store_folder
from ui.tasks import TaskRunner


def start(qtbot):
    runner = TaskRunner()
    first_run = FirstRun(runner, kdf=MINIMUM_KDF)
    wizard = first_run.wizard
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard and QApplication.focusWidget() is not None)
    return first_run, wizard, runner


def test_create_a_store_by_keyboard(qtbot, password):
    first_run, wizard, runner = start(qtbot)
    assert wizard.location.folder.text() == str(default_store_folder())
    alt(qtbot, Qt.Key.Key_N)                       # new store is the default choice
    assert wizard.currentId() == PAGE_LOCATION
    alt(qtbot, Qt.Key.Key_N)                       # keep the machine-wide default folder
    wizard.organisation.ods.setFocus()
    type_text(qtbot, "RXX")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "Oak Ward")
    press(qtbot, Qt.Key.Key_Return)
    type_text(qtbot, "Elm Ward")
    alt(qtbot, Qt.Key.Key_N)
    wizard.admin.password.setFocus()
    type_text(qtbot, password)
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, password)
    alt(qtbot, Qt.Key.Key_C)                       # Create the store
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_KEY, timeout=WAIT)
    key = wizard.recovery.full_key
    assert len(key.split("-")) == 8 and "\n" in wizard.recovery.key.text()  # two lines of four groups, to print
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled()                  # not until they say the key is safe
    assert not wizard.button(QWizard.WizardButton.CancelButton).isVisible()
    assert focused() is wizard.recovery.confirm
    press(qtbot, Qt.Key.Key_Space)
    assert finish.isEnabled()
    alt(qtbot, Qt.Key.Key_F)
    assert wizard.result() == QWizard.DialogCode.Accepted
    folder = default_store_folder()
    assert paths.configured_store() == folder
    saved = paths.machine_settings_path()  # machine-wide, for every user of a shared ward PC
    assert "key" not in saved.read_text().lower().replace("keyslots", "")
    store, admin = accounts.sign_in(folder, "admin", password)
    assert [w.name for w in accounts.list_wards(store, admin)] == ["Elm Ward", "Oak Ward"]
    store.close()
    runner.wait()


def test_network_share_is_refused_with_the_core_message(qtbot, password):
    first_run, wizard, runner = start(qtbot)
    wizard.next()
    wizard.location.folder.setText("//wardserver/share/lantern")
    wizard.next()
    wizard.organisation.ods.setText("RXX")
    wizard.organisation.wards.setPlainText("Oak Ward")
    wizard.next()
    wizard.admin.password.setText(password)
    wizard.admin.again.setText(password)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_LOCATION, timeout=WAIT)
    assert wizard.location.message.text() == f"Needed: {REFUSAL}"
    assert paths.configured_store() is None
    runner.wait()


def test_mismatched_passwords_are_caught_on_the_page(qtbot, password):
    first_run, wizard, runner = start(qtbot)
    wizard.next()
    wizard.next()
    wizard.organisation.ods.setText("RXX")
    wizard.organisation.wards.setPlainText("Oak Ward")
    wizard.next()
    wizard.admin.password.setText(password)
    wizard.admin.again.setText(password + "x")
    wizard.next()
    assert "not the same" in wizard.admin.message.text()
    wizard.admin.password.setText("short")
    wizard.admin.again.setText("short")
    wizard.next()
    assert wizard.admin.message.text().startswith("Needed:") and not wizard.admin.created


def test_open_an_existing_store(qtbot, store_folder, tmp_path):
    first_run, wizard, runner = start(qtbot)
    qtbot.mouseClick(wizard.choice.open, Qt.MouseButton.LeftButton)
    wizard.next()
    wizard.existing.folder.setText(str(tmp_path / "nothing-here"))
    assert not wizard.validateCurrentPage()
    assert "no Lantern store" in wizard.existing.message.text()
    wizard.existing.folder.setText(str(store_folder))
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert paths.configured_store() == store_folder
