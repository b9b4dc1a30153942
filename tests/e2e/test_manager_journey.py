"""End to end, as a ward manager: sign in, see the overdue count, complete an action with a crime reference,
review the incident (confirm harm, leave feedback), finish its actions and close it. Real store, real widgets."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.services import incidents, queue
from tests.core.manager_helpers import report
from tests.ui.manager_helpers import WAIT, modal, press_later
from tests.ui.nurse_helpers import sign_in
from ui.app import AppController
from ui.dialogs.actions import CompleteDialog, TextDialog
from ui.dialogs.incident import HarmDialog
from ui.pages.action_queue import ActionQueuePage
from ui.pages.review import ReviewPage


def test_manager_journey(qtbot, make_store, monkeypatch, password):
    store, actors, _recovery, wards = make_store()
    # A nurse reported a sexual assault two days ago; nobody has acted on it yet.
    detail = report(store, actors["nurse"], wards["Oak Ward"], types=("SS-SA",), flags=("physical_contact",),
                    hours_ago=50)
    later = queue.utcnow() + timedelta(days=2)
    monkeypatch.setattr(queue, "utcnow", lambda: later)  # two days on: the same-day actions are overdue
    overdue = queue.overdue_count(store, actors["manager"])
    assert overdue > 0
    folder = store.folder
    store.close()

    controller = AppController(folder)
    window = sign_in(qtbot, controller, "manager", password)
    try:
        # 1. The overdue count is in the status bar at once.
        qtbot.waitUntil(lambda: window.overdue_label.text() == f"Overdue actions: {overdue}", timeout=WAIT)

        # 2. Complete the police action from the queue, with the crime reference, by keyboard.
        page = window.page(ActionQueuePage)
        window.tabs.setCurrentWidget(page)
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
        row = next(i for i, r in enumerate(page.model.rows) if r.rule_id == "police-wishes-ask")
        page.table.setFocus()
        page.table.selectRow(row)
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
        dialog = modal(qtbot, CompleteDialog)
        qtbot.keyClicks(dialog.note, "Patient wished to report. Police attended.")
        qtbot.keyClick(dialog.note, Qt.Key.Key_Tab)
        qtbot.keyClicks(dialog.reference, "CR/2026/1234")
        qtbot.keyClick(dialog.reference, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.overdue_label.text() == f"Overdue actions: {overdue - 1}", timeout=WAIT)

        # 3. Review the incident: open it, confirm the harm grading, leave feedback.
        review = window.page(ReviewPage)
        window.tabs.setCurrentWidget(review)
        qtbot.waitUntil(lambda: detail.incident_id in [r.incident_id for r in review.list_model.rows], timeout=WAIT)
        review.list.setFocus()
        review.list.selectRow([r.incident_id for r in review.list_model.rows].index(detail.incident_id))
        qtbot.keyClick(review.list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: review.detail is not None and review.detail.incident_id == detail.incident_id,
                        timeout=WAIT)
        assert review.harm_banner.isVisibleTo(review)
        assert any(a.reference == "CR/2026/1234" for a in review.detail.actions)
        qtbot.mouseClick(review.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: review.detail.status == "in_review", timeout=WAIT)
        qtbot.mouseClick(review.harm_button, Qt.MouseButton.LeftButton)
        harm = modal(qtbot, HarmDialog)
        harm.psychological.setFocus()
        qtbot.keyClick(harm.psychological, Qt.Key.Key_Down)
        qtbot.keyClicks(harm.note, "Spoke with the patient: distress continuing.")
        qtbot.keyClick(harm.note, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not review.detail.harm_confirmation_needed, timeout=WAIT)
        assert not review.harm_banner.isVisibleTo(review)
        qtbot.mouseClick(review.feedback_button, Qt.MouseButton.LeftButton)
        feedback = modal(qtbot, TextDialog)
        qtbot.keyClicks(feedback.text, "Thank you: your quick report helped the patient get support.")
        qtbot.mouseClick(feedback.buttons.button(feedback.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: review.detail.feedback_note.startswith("Thank you"), timeout=WAIT)

        # 4. Finish the remaining mandatory actions from the Actions tab, then close.
        review.tabs.setCurrentIndex(1)
        while True:
            open_rows = [i for i, a in enumerate(review.actions_model.rows) if a.status == "open" and a.mandatory]
            if not open_rows:
                break
            before = len(open_rows)
            review.actions.setFocus()
            review.actions.selectRow(open_rows[0])
            complete = next(b for b in review.findChildren(type(review.close_button)) if b.text() == "Complete…")
            qtbot.mouseClick(complete, Qt.MouseButton.LeftButton)
            dialog = modal(qtbot, CompleteDialog)
            qtbot.keyClicks(dialog.note, "Done as the guidance says.")
            qtbot.keyClick(dialog.reference, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda b=before: len([a for a in review.actions_model.rows
                                                  if a.status == "open" and a.mandatory]) == b - 1, timeout=WAIT)
        press_later(Qt.Key.Key_Y, QMessageBox)
        qtbot.mouseClick(review.close_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: review.detail.status == "closed", timeout=WAIT)
        qtbot.waitUntil(lambda: window.overdue_label.text() != f"Overdue actions: {overdue - 1}", timeout=WAIT)
    finally:
        controller.shutdown()

    # The reporter sees the feedback; the record is closed with its crime reference kept.
    from core.services import accounts

    store, nurse = accounts.sign_in(folder, "nurse", password)
    try:
        mine = {i.incident_id: i for i in incidents.list_my_incidents(store, nurse)}
        assert mine[detail.incident_id].status == "closed"
        assert mine[detail.incident_id].feedback_note.startswith("Thank you")
    finally:
        store.close()


# ----- screenshots for docs/ -------------------------------------------------------------------

SHOTS = os.environ.get("LANTERN_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_manager_screenshots(qtbot, tmp_path, password):
    """The queue, review and dashboard on a 2,000-incident demo store (synthetic data only)."""
    from core.demo.seed import create_or_fill_demo
    from core.security.keyslots import MINIMUM_KDF
    from tests.ui.nurse_helpers import sign_in as nurse_sign_in
    from ui.pages.dashboard import DashboardPage

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "ward-store"
    create_or_fill_demo(folder, password, incidents=2000, kdf=MINIMUM_KDF)
    controller = AppController(folder)
    window = nurse_sign_in(qtbot, controller, "manager", password)
    window.resize(1400, 900)
    try:
        for page_class, name in ((ActionQueuePage, "queue"), (ReviewPage, "review"), (DashboardPage, "dashboard")):
            page = window.page(page_class)
            window.tabs.setCurrentWidget(page)
            qtbot.wait(1500)
            controller.runner.wait()
            if page_class is ReviewPage:  # open the first incident so the record shows
                page.list.setFocus()
                page.list.selectRow(0)
                qtbot.keyClick(page.list, Qt.Key.Key_Return)
                qtbot.waitUntil(lambda p=page: p.detail is not None, timeout=WAIT)
                controller.runner.wait()
            qtbot.wait(300)
            window.grab().save(str(out / f"{name}.png"))
    finally:
        controller.shutdown()
