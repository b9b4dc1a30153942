"""End to end, the nurse's journey on a real encrypted store, keyboard only:
sign in → report → safeguarding prompts → tick an immediate action → My incidents shows it.

Also holds the screenshot writer for docs (skipped unless LANTERN_SCREENSHOTS names a folder):
    LANTERN_SCREENSHOTS=docs/screenshots QT_QPA_PLATFORM=offscreen .venv/bin/pytest tests/e2e -k screenshots
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from core.security.keyslots import MINIMUM_KDF
from tests.ui.nurse_helpers import WAIT, alt, focused, form_of, keyboard_report, press, sign_in, type_text
from ui.app import AppController
from ui.pages.my_incidents import COL_ACTIONS, COL_REFERENCE, COL_STATUS, MyIncidentsPage


def test_nurse_journey_by_keyboard(qtbot, make_store, record_property, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    started = time.perf_counter()
    window = sign_in(qtbot, controller, "nurse", password)                  # typed password, Enter
    form = keyboard_report(qtbot, window)                                   # 8 inputs, Ctrl+Enter
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    elapsed = time.perf_counter() - started
    record_property("sign_in_to_submitted_seconds", round(elapsed, 2))
    print(f"\nsign-in to submitted incident, keyboard driver: {elapsed:.2f} s (information only)")
    dialog = form.prompts
    reference = dialog.detail.reference
    open_before = sum(1 for a in dialog.detail.actions if a.status == "open")
    row = next(r for r in dialog.rows.values() if r.tick)
    type_text(qtbot, "Patients separated")                                  # the note
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_Space)                                          # tick: done
    qtbot.waitUntil(lambda: row.state.text().startswith("Done at"), timeout=WAIT)
    alt(qtbot, Qt.Key.Key_F)                                                # Finish
    assert not dialog.isVisible()
    window.activateWindow()
    qtbot.waitUntil(lambda: focused() is not None)
    alt(qtbot, Qt.Key.Key_M)                                                # My incidents tab
    page = window.page(MyIncidentsPage)
    assert window.tabs.currentWidget() is page

    def shown():
        return [r for r in range(page.proxy.rowCount()) if page.proxy.index(r, COL_REFERENCE).data() == reference]

    qtbot.waitUntil(lambda: bool(shown()) and page.proxy.index(shown()[0], COL_ACTIONS).data().startswith(
        str(open_before - 1)), timeout=WAIT)
    assert page.proxy.index(shown()[0], COL_STATUS).data() == "Submitted"
    controller.shutdown()


# ----- screenshots for docs/ -------------------------------------------------------------------

SHOTS = os.environ.get("LANTERN_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_screenshots(qtbot, make_store, tmp_path, password):
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    from ui.dialogs.setup_wizard import FirstRun
    from ui.tasks import TaskRunner

    runner = TaskRunner()
    first_run = FirstRun(runner, kdf=MINIMUM_KDF)
    wizard = first_run.wizard
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.grab().save(str(out / "setup-wizard-1-choice.png"))
    wizard.next()
    wizard.location.folder.setText(str(tmp_path / "shot-store"))
    wizard.grab().save(str(out / "setup-wizard-2-location.png"))
    wizard.next()
    wizard.organisation.ods.setText("RXX")
    wizard.organisation.wards.setPlainText("Oak Ward\nElm Ward")
    wizard.grab().save(str(out / "setup-wizard-3-organisation.png"))
    wizard.next()
    wizard.admin.password.setText(password)
    wizard.admin.again.setText(password)
    wizard.grab().save(str(out / "setup-wizard-4-administrator.png"))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == 4, timeout=WAIT)
    wizard.grab().save(str(out / "setup-wizard-5-recovery-key.png"))
    wizard.recovery.confirm.setChecked(True)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    runner.wait()

    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    window.resize(1100, 800)
    form = form_of(window)
    window.tabs.setCurrentWidget(form)
    form.types.types.setCurrentRow(2)
    form.types.types.item(2).setCheckState(Qt.CheckState.Checked)
    form.types.flags["physical_contact"].setChecked(True)
    qtbot.wait(50)
    window.grab().save(str(out / "form-1-what-happened.png"))
    form.go(1)
    form.when.day.setCurrentIndex(1)
    form.when.time.setText("21:40")
    form.when.location.setCurrentIndex(form.when.location.findData("corridor"))
    window.grab().save(str(out / "form-2-when-where.png"))
    form.go(2)
    editors = form.people.editors
    editors[0].person_type.setCurrentIndex(editors[0].person_type.findData("patient"))
    editors[0].ref.setText("CD")
    editors[0].questions["detained"].set_value(True)
    editors[1].person_type.setCurrentIndex(editors[1].person_type.findData("patient"))
    editors[1].ref.setText("AB")
    window.grab().save(str(out / "form-3-people.png"))
    form.go(3)
    groups = list(form.harm.groups.values())
    groups[0].buttons()[0].setChecked(True)
    groups[1].buttons()[2].setChecked(True)
    window.grab().save(str(out / "form-4-harm.png"))
    form.go(4)
    form.description.description.setPlainText(
        "AB touched CD's bottom in the corridor while CD was walking to the dining room. CD said 'get off me' "
        "and told me straight away. CD was tearful. DOB 12/03/1990, call 07700 900123.")
    form.description.description_guard.check_now()
    form.description.actions.setPlainText("AB and CD separated. AB on 1:1 observations. Duty doctor informed.")
    window.grab().save(str(out / "form-5-description-privacy-warning.png"))
    form.description.description.setPlainText(
        "AB touched CD's bottom in the corridor while CD was walking to the dining room. CD said 'get off me' "
        "and told me straight away. CD was tearful.")
    form.go(5)
    window.grab().save(str(out / "form-6-summary.png"))
    form.submit()
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    form.prompts.resize(820, 900)
    qtbot.wait(50)
    form.prompts.grab().save(str(out / "prompts.png"))
    form.prompts.accept()
    form.go(5)
    form.go(0)
    window.tabs.setCurrentWidget(window.page(MyIncidentsPage))
    page = window.page(MyIncidentsPage)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    page.table.selectRow(0)
    qtbot.waitUntil(lambda: "Still to do" in page.detail.text(), timeout=WAIT)
    window.grab().save(str(out / "my-incidents.png"))
    form.go(0)
    window.tabs.setCurrentWidget(form)
    form.go(5)
    window.grab().save(str(out / "form-6-summary-missing.png"))
    controller.shutdown()
