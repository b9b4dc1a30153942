"""REL-02 in the window: when the store refuses a write, the nurse is told in plain English and keeps every word.

A nurse fills in the real incident form with the keyboard; the signed-in store the UI uses is then made to
refuse writes (tests/core/fault_helpers.py: disk full, read-only, the file locked by another program). Sending
fails with a plain message and no traceback; the form stays open on the summary with everything typed still
there; once the fault is gone, sending again works and stores exactly one incident. The autosave is checked
the same way. Real encrypted stores, synthetic data only.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from core.services import drafts, incidents
from tests.core.fault_helpers import EXPECTED, refused_writes
from tests.ui.nurse_helpers import WAIT, keyboard_report, press

MARKER = "REL02-UI-MARKER-4410"  # stands for patient text
DESCRIPTION = f"Synthetic: {MARKER} made sexual comments to CD at the hatch."
UI_FAULTS = ("disk_full", "read_only", "file_locked")
NOT_SHOWN = ("Traceback", "SQL", "sqlcipher", "sqlite", "INSERT", "Error:", MARKER)




def _typed(form) -> dict:
    """Everything the nurse typed, as the form holds it."""
    return {"draft": form.current_draft(), "time": form.when.time.text(),
            "description": form.description.description.toPlainText(),
            "people": [(e.person_type.currentText(), e.ref.text()) for e in form.people.editors]}


def _no_traceback_on_screen() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            for bad in NOT_SHOWN:
                assert bad not in widget.text() + widget.detailedText()


@pytest.mark.parametrize("fault", UI_FAULTS)
def test_send_refused_keeps_the_form_and_works_once_the_fault_is_gone(nurse_window, qtbot, fault):
    controller, window, actors, _wards = nurse_window
    form = keyboard_report(qtbot, window, description=DESCRIPTION, submit=False)
    typed = _typed(form)
    assert typed["description"] == DESCRIPTION and typed["draft"].types == ("SS-HAR-V",)
    assert controller.runner.wait(WAIT)
    store = controller.session.store

    with refused_writes(store, fault):
        press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # send
        qtbot.waitUntil(lambda: form.summary.message.text().startswith("Not sent."), timeout=WAIT)
        assert controller.runner.wait(WAIT)

    shown = form.summary.message.text()
    assert shown == f"Not sent. {EXPECTED[fault]().message}"
    for bad in NOT_SHOWN:
        assert bad not in shown
    _no_traceback_on_screen()
    # The form is still open on the summary, ready to send again, with every word still there.
    assert window.isVisible() and window.tabs.currentWidget() is form
    assert form.stack.currentWidget() is form.summary and form.summary.submit.isEnabled()
    assert form.prompts is None
    assert _typed(form) == typed
    # Nothing half-written: the nurse has no report in the store yet (and the store is not marked damaged).
    assert incidents.list_my_incidents(store, actors["nurse"]) == []
    assert not store.damaged

    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # the fault is gone: send again
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    detail = form.prompts.detail
    assert detail.status == "submitted" and detail.draft.description == DESCRIPTION
    assert detail.draft.types == typed["draft"].types and detail.draft.people == typed["draft"].people
    mine = incidents.list_my_incidents(store, actors["nurse"])
    assert [m.incident_id for m in mine] == [detail.incident_id]  # exactly one, not one per attempt
    form.prompts.close()


@pytest.mark.parametrize("fault", UI_FAULTS)
def test_autosave_refused_says_so_and_saves_once_the_fault_is_gone(nurse_window, qtbot, fault):
    controller, window, actors, _wards = nurse_window
    form = keyboard_report(qtbot, window, description=DESCRIPTION, submit=False)
    typed = _typed(form)
    assert form.dirty
    assert controller.runner.wait(WAIT)
    store = controller.session.store

    with refused_writes(store, fault):
        form.save_now()  # what the 10-second timer and locking do
        qtbot.waitUntil(lambda: form.saved.text().startswith("Draft not saved yet:"), timeout=WAIT)
        assert controller.runner.wait(WAIT)

    shown = form.saved.text()
    assert shown == f"Draft not saved yet: {EXPECTED[fault]().message}"
    for bad in NOT_SHOWN:
        assert bad not in shown
    _no_traceback_on_screen()
    assert form.dirty, "a failed autosave must be tried again"
    assert _typed(form) == typed and form.stack.currentWidget() is form.summary
    assert not store.damaged

    form.save_now()
    qtbot.waitUntil(lambda: form.saved.text().startswith("Draft saved at"), timeout=WAIT)
    assert controller.runner.wait(WAIT)
    saved = drafts.load_form(store, actors["nurse"])
    assert saved is not None and saved.form.draft.description == DESCRIPTION


def test_a_report_is_never_sent_while_its_autosave_stays_behind(nurse_window, qtbot, monkeypatch):
    """Sending writes the report, runs the rules and clears the autosave in one transaction. If any step is
    refused (say a lock taken in between, after the report was written), nothing is sent and the nurse is told
    so; never a sent report whose autosave comes back at the next sign-in as unfinished work, which would
    invite a second report of the same incident."""
    from core.errors import StoreBusy

    controller, window, actors, _wards = nurse_window
    form = keyboard_report(qtbot, window, description=DESCRIPTION, submit=False)
    assert controller.runner.wait(WAIT)
    form.save_now()
    assert controller.runner.wait(WAIT)
    store, nurse = controller.session.store, actors["nurse"]
    typed = _typed(form)

    def refused(*_args, **_kwargs):
        raise StoreBusy()

    with monkeypatch.context() as patch:
        patch.setattr(incidents, "_submit_in", refused)  # fails after the report is written, before it is sent
        press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: form.summary.message.text().startswith("Not sent."), timeout=WAIT)
        assert controller.runner.wait(WAIT)
    assert form.summary.message.text() == f"Not sent. {StoreBusy().message}"
    assert incidents.list_my_incidents(store, nurse) == []  # not sent, and nothing half-written
    assert drafts.load_form(store, nurse) is not None and _typed(form) == typed

    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # send again: it goes, once
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    form.prompts.close()
    assert [m.status for m in incidents.list_my_incidents(store, nurse)] == ["submitted"]
    assert drafts.load_form(store, nurse) is None
