"""End to end from a new computer: the setup wizard by keyboard creates the store, the administrator adds a
nurse, and the nurse signs in and sends a report by keyboard alone. Real encrypted store, real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

from core import paths
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts
from tests.ui.nurse_helpers import WAIT, alt, keyboard_report, press, sign_in, type_text
from ui.app import AppController
from ui.dialogs.setup_wizard import PAGE_KEY, FirstRun
from ui.tasks import TaskRunner


def test_first_run_to_a_submitted_incident_by_keyboard(qtbot, password, add_account):
    # 1. First run: the wizard, keyboard only, with the machine-wide default folder.
    runner = TaskRunner()
    first_run = FirstRun(runner, kdf=MINIMUM_KDF)  # keep it: it runs the store creation and its callbacks
    wizard = first_run.wizard
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is wizard and QApplication.focusWidget() is not None)
    alt(qtbot, Qt.Key.Key_N)                                   # a new store
    alt(qtbot, Qt.Key.Key_N)                                   # the default folder
    wizard.organisation.ods.setFocus()
    type_text(qtbot, "RXX")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "Oak Ward")
    alt(qtbot, Qt.Key.Key_N)
    wizard.admin.password.setFocus()
    type_text(qtbot, password)
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, password)
    alt(qtbot, Qt.Key.Key_C)                                   # create the store
    qtbot.waitUntil(lambda: wizard.currentId() == PAGE_KEY, timeout=WAIT)
    recovery_key = wizard.recovery.key.text()  # the paper copy the recovery key holder keeps
    press(qtbot, Qt.Key.Key_Space)                             # "I have printed or stored the recovery key"
    alt(qtbot, Qt.Key.Key_F)
    assert wizard.result() == QWizard.DialogCode.Accepted
    runner.wait()
    folder = paths.configured_store()
    assert folder is not None

    # 2. The administrator adds a nurse on Oak Ward (the admin page is tested on its own in tests/ui).
    store, admin = accounts.sign_in(folder, "admin", password)
    oak = accounts.list_wards(store, admin)[0].ward_id
    # The recovery key holder approves it (there is no safeguarding lead yet); the nurse sets a password.
    add_account(store, admin, recovery_key=recovery_key, username="nurse", role="nurse", ward_ids=[oak])
    store.close()

    # 3. The nurse signs in on the configured store and reports by keyboard alone.
    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "nurse", password)
        form = keyboard_report(qtbot, window)
        qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
        detail = form.prompts.detail
        assert detail.status == "submitted" and detail.actions
        assert detail.reference.startswith("LAN-")
        alt(qtbot, Qt.Key.Key_F)
    finally:
        controller.shutdown()
