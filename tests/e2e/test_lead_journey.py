"""End to end, the restricted-record journey (the safeguarding lead's journey), on a real encrypted store:
a nurse reports by keyboard that a member of staff is the alleged perpetrator and links that staff member's
Lantern account (the ward manager's); the record is restricted. The reporter keeps it, another nurse and the
linked manager never see it (list, queue, overdue count), and the safeguarding lead finds it, opens it by
keyboard and sees the opening in the log of who opened restricted records. Every sign-in is through the real
sign-in window. Synthetic data only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from core.errors import NotFound
from core.services import accounts, incidents, queue, review
from core.services.review import IncidentQuery
from tests.core.manager_helpers import report
from tests.ui.manager_helpers import modal
from tests.ui.nurse_helpers import ANSWERS_AFFECTED_PATIENT, WAIT, alt, focused, form_of, press, sign_in, type_text
from ui.app import AppController
from ui.dialogs.incident import ViewLogDialog
from ui.models.manager import IncidentListModel, QueueModel, ViewLogModel
from ui.pages.action_queue import ActionQueuePage
from ui.pages.my_incidents import COL_REFERENCE, COL_STATUS, MyIncidentsPage
from ui.pages.review import ReviewPage

DESCRIPTION = "Synthetic: a member of staff made sexual remarks to CD in the lounge. Made-up test text."


def staff_report_by_keyboard(qtbot, window, manager_id: str):
    """The report form by keyboard alone: a patient affected, a member of staff the alleged perpetrator, linked
    to the ward manager's account with the "Their Lantern account (if they have one)" list. Sends it."""
    form = form_of(window)
    perpetrator = form.people.editors[1]
    qtbot.waitUntil(lambda: form.when.ward.count() > 0 and perpetrator.choices_loaded, timeout=WAIT)
    window.tabs.setFocus()
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)       # start a report
    assert window.tabs.currentWidget() is form and focused() is form.types.types
    press(qtbot, Qt.Key.Key_Down, times=5)                                # Verbal sexual harassment
    press(qtbot, Qt.Key.Key_Space)
    alt(qtbot, Qt.Key.Key_N)
    assert focused() is form.when.day
    press(qtbot, Qt.Key.Key_Down)                                         # yesterday
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "21:40")
    press(qtbot, Qt.Key.Key_Tab, times=4)
    assert focused() is form.when.location
    type_text(qtbot, "Lounge")
    press(qtbot, Qt.Key.Key_PageDown)
    affected = form.people.editors[0]
    assert focused() is affected.person_type
    type_text(qtbot, "Patient")                                           # the affected person
    assert affected.person_type.currentData() == "patient"
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "CD")
    press(qtbot, Qt.Key.Key_Tab, times=ANSWERS_AFFECTED_PATIENT + 4)      # six questions, more, remove, role, type
    assert focused() is perpetrator.person_type
    type_text(qtbot, "Staff")                                             # the alleged perpetrator
    assert perpetrator.person_type.currentData() == "staff"
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "S-4")                                               # their reference
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is perpetrator.account                               # "Their Lantern account"
    type_text(qtbot, "manager")                                           # keyboard search in the list
    assert perpetrator.account.currentText() == "manager (Ward manager)"
    assert perpetrator.account.currentData() == manager_id
    alt(qtbot, Qt.Key.Key_N)
    press(qtbot, Qt.Key.Key_Space)                                        # no physical harm
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_Space)                                        # psychological: first level
    press(qtbot, Qt.Key.Key_Down, times=2)                                #    ... moved up to moderate
    alt(qtbot, Qt.Key.Key_N)
    assert focused() is form.description.description
    type_text(qtbot, DESCRIPTION)
    alt(qtbot, Qt.Key.Key_N)
    assert form.stack.currentWidget() is form.summary
    assert "their Lantern account is linked" in form.summary.text.text()
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # send
    return form


def tab_titles(window) -> list[str]:
    return [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]


def overdue_text(count: int) -> str:
    """What the status bar says (ui.main_window.MainWindow.set_overdue)."""
    return f"Overdue actions: {count}" if count else "No overdue actions"


def column(model, col: int) -> list[str]:
    return [model.index(r, col).data() for r in range(model.rowCount())]


def open_tab(qtbot, window, cls):
    page = window.page(cls)
    assert page is not None
    window.tabs.setCurrentWidget(page)
    return page


def test_restricted_record_journey(qtbot, make_store, monkeypatch, password):
    store, actors, _recovery, wards = make_store()
    # An ordinary Oak Ward report from earlier, so the manager's screens have something in them.
    ordinary = report(store, actors["nurse"], wards["Oak Ward"], types=("SS-HAR-V",), local_ref="P-3", hours_ago=5)
    folder = store.folder
    store.close()
    later = queue.utcnow() + timedelta(days=2)
    monkeypatch.setattr(queue, "utcnow", lambda: later)  # two days on: the same-day actions are overdue

    # 1. The nurse reports, by keyboard, a member of staff as alleged perpetrator, linked to "manager".
    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "nurse", password)
        form = staff_report_by_keyboard(qtbot, window, actors["manager"].user_id)
        qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
        detail = form.prompts.detail
        reference, incident_id = detail.reference, detail.incident_id
        assert detail.status == "submitted" and detail.restricted  # restricted without anyone asking
        assert detail.actions
        alt(qtbot, Qt.Key.Key_F)                                          # Finish
        assert not form.prompts.isVisible()
        window.activateWindow()
        qtbot.waitUntil(lambda: focused() is not None, timeout=WAIT)
        # 2a. The reporter keeps their report: My incidents shows it.
        alt(qtbot, Qt.Key.Key_M)
        mine = window.page(MyIncidentsPage)
        assert window.tabs.currentWidget() is mine
        qtbot.waitUntil(lambda: reference in column(mine.proxy, COL_REFERENCE), timeout=WAIT)
        row = column(mine.proxy, COL_REFERENCE).index(reference)
        assert mine.proxy.index(row, COL_STATUS).data() == "Submitted"
    finally:
        controller.shutdown()

    # Core's view of the same store, for the cross-checks below (no record is opened here, so the view log
    # that the lead reads at the end holds only what happened in the GUI).
    assert detail.draft.people[1].person_type == "staff"
    assert detail.draft.people[1].linked_user_id == actors["manager"].user_id
    restricted_overdue = sum(1 for a in detail.actions if a.status == "open" and a.due_at < later)
    core_store, lead_actor = accounts.sign_in(folder, "lead", password)
    try:
        everything = IncidentQuery(status=None)
        lead_rows = {r.incident_id: r for r in review.list_incidents(core_store, lead_actor, everything).rows}
        assert lead_rows[incident_id].restricted
        manager_rows = review.list_incidents(core_store, actors["manager"], everything).rows
        assert incident_id not in {r.incident_id for r in manager_rows}
        for username in ("nurse2", "manager"):
            with pytest.raises(NotFound):
                incidents.get_incident(core_store, actors[username], incident_id)
        lead_overdue = queue.overdue_count(core_store, lead_actor)
        manager_overdue = queue.overdue_count(core_store, actors["manager"])
        nurse2_overdue = queue.overdue_count(core_store, actors["nurse2"])
    finally:
        core_store.close()
    assert restricted_overdue > 0  # otherwise the overdue comparison below proves nothing
    assert lead_overdue == manager_overdue + restricted_overdue
    assert nurse2_overdue == manager_overdue

    # 2b. A second nurse on the same ward sees it nowhere: not in My incidents, and there is no Review tab.
    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "nurse2", password)
        titles = tab_titles(window)
        assert "Review" not in titles and "Actions" not in titles and "Dashboard" not in titles
        assert window.page(ReviewPage) is None and window.page(ActionQueuePage) is None
        mine = open_tab(qtbot, window, MyIncidentsPage)
        qtbot.waitUntil(lambda: mine.loaded, timeout=WAIT)
        assert mine.model.rowCount() == 0
        assert mine.detail.text().startswith("You have not reported any incidents yet")
        qtbot.waitUntil(lambda: window.overdue_label.text() == overdue_text(nurse2_overdue), timeout=WAIT)
    finally:
        controller.shutdown()

    # 3. The linked ward manager: not in Review, not in the action queue, not in the overdue count.
    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "manager", password)
        qtbot.waitUntil(lambda: window.overdue_label.text() == overdue_text(manager_overdue), timeout=WAIT)
        assert window.overdue_label.text() != overdue_text(lead_overdue)
        review_page = open_tab(qtbot, window, ReviewPage)
        listed = review_page.list_model
        qtbot.waitUntil(lambda: not listed.fetching and ordinary.reference in column(
            listed, IncidentListModel.COL_REFERENCE), timeout=WAIT)
        assert reference not in column(listed, IncidentListModel.COL_REFERENCE)
        assert incident_id not in [r.incident_id for r in listed.rows]
        assert "Restricted" not in column(listed, IncidentListModel.COL_ATTENTION)
        actions_page = open_tab(qtbot, window, ActionQueuePage)
        queued = actions_page.model
        qtbot.waitUntil(lambda: not queued.fetching and ordinary.reference in column(
            queued, QueueModel.COL_INCIDENT), timeout=WAIT)
        assert reference not in column(queued, QueueModel.COL_INCIDENT)
        assert incident_id not in [r.incident_id for r in queued.rows]
    finally:
        controller.shutdown()

    # 4. The safeguarding lead: the record is listed as restricted, opens by Enter, and the view log shows it.
    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "lead", password)
        qtbot.waitUntil(lambda: window.overdue_label.text() == overdue_text(lead_overdue), timeout=WAIT)
        review_page = open_tab(qtbot, window, ReviewPage)
        listed = review_page.list_model
        qtbot.waitUntil(lambda: not listed.fetching and reference in column(
            listed, IncidentListModel.COL_REFERENCE), timeout=WAIT)
        row = column(listed, IncidentListModel.COL_REFERENCE).index(reference)
        assert "Restricted" in listed.index(row, IncidentListModel.COL_ATTENTION).data()
        review_page.list.setFocus()
        review_page.list.selectRow(row)
        qtbot.keyClick(review_page.list, Qt.Key.Key_Return)               # open it by keyboard
        qtbot.waitUntil(lambda: review_page.detail is not None and review_page.detail.incident_id == incident_id,
                        timeout=WAIT)
        assert "RESTRICTED" in review_page.title.text()
        record = review_page.record.toPlainText()
        assert "Restricted" in record and "a Lantern account holder" in record
        qtbot.mouseClick(review_page.view_log_button, Qt.MouseButton.LeftButton)
        log = modal(qtbot, ViewLogDialog)
        qtbot.waitUntil(lambda: log.model.rowCount() > 0, timeout=WAIT)
        who = list(zip(column(log.model, ViewLogModel.COL_WHO), column(log.model, ViewLogModel.COL_INCIDENT),
                       column(log.model, ViewLogModel.COL_WHAT), strict=True))
        # Only the lead's own opening, just now: the linked manager (and anyone else) never opened it. The
        # cross-checks above, in which nurse2 and the manager tried to open it through core, show as refused.
        assert [w for w in who if not w[2].startswith("Refused")] == [("lead", reference, "The record")]
        assert sorted(w[0] for w in who if w[2].startswith("Refused")) == ["manager", "nurse2"]
        log.reject()
    finally:
        controller.shutdown()
