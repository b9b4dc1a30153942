"""The review screen on a real encrypted store: open a record, confirm harm, feedback, close refused then allowed,
reopen with a reason; restricted records and the lead's view log."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from core.db.models import AuditEvent
from core.db.store import unit_of_work
from core.services import incidents
from tests.ui.manager_helpers import WAIT, Contexts, modal, press_later, seed
from ui.dialogs.actions import TextDialog
from ui.dialogs.incident import EditDialog, HarmDialog, ViewLogDialog
from ui.main_window import MainWindow
from ui.pages.review import ReviewPage


@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    seeded = seed(store, actors, wards)
    contexts = Contexts(store, actors)
    yield store, actors, wards, seeded, contexts
    contexts.finish()


def open_page(qtbot, ctx) -> ReviewPage:
    page = ReviewPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 800)
    page.show()
    qtbot.waitUntil(lambda: page.list_model.rowCount() > 0, timeout=WAIT)
    return page


def listed(page):
    return [page.list_model.rows[i].incident_id for i in range(page.list_model.rowCount())]


def open_by_keyboard(qtbot, page, incident_id):
    row = listed(page).index(incident_id)
    page.list.setFocus()
    page.list.selectRow(row)
    qtbot.keyClick(page.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.detail is not None and page.detail.incident_id == incident_id, timeout=WAIT)


def views_of(store, incident_id):
    with unit_of_work(store, write=False) as session:
        return session.scalars(select(AuditEvent.username).where(
            AuditEvent.entity_id == incident_id, AuditEvent.action == "incident.view")).all()


def test_open_confirm_harm_and_leave_feedback(qtbot, env):
    store, actors, _wards, (assault, _verbal, _restricted), contexts = env
    page = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, page, assault.incident_id)
    assert page.harm_banner.isVisibleTo(page)
    assert "Sexual assault" in page.record.toPlainText()
    assert views_of(store, assault.incident_id) == ["manager"]
    qtbot.mouseClick(page.harm_button, Qt.MouseButton.LeftButton)
    dialog = modal(qtbot, HarmDialog)
    dialog.psychological.setFocus()
    qtbot.keyClick(dialog.psychological, Qt.Key.Key_Down)  # low -> moderate
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not page.detail.harm_confirmation_needed, timeout=WAIT)
    assert not page.harm_banner.isVisibleTo(page)
    assert page.detail.harm_psychological == "moderate"
    qtbot.mouseClick(page.feedback_button, Qt.MouseButton.LeftButton)
    dialog = modal(qtbot, TextDialog)
    qtbot.keyClicks(dialog.text, "Thank you for reporting this quickly.")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.feedback_note == "Thank you for reporting this quickly.", timeout=WAIT)
    qtbot.waitUntil(lambda: any(h.event == "incident.harm_confirm" for h in page.history_model.rows), timeout=WAIT)
    page.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: page.versions_model.rowCount() >= 1, timeout=WAIT)


def test_close_is_refused_with_open_actions_then_allowed_and_reopened(qtbot, env):
    store, actors, _wards, (_assault, verbal, _restricted), contexts = env
    page = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, page, verbal.incident_id)
    press_later(Qt.Key.Key_Y, QMessageBox)  # "Close incident?" -> Yes
    qtbot.mouseClick(page.close_button, Qt.MouseButton.LeftButton)
    refusal = press_later(Qt.Key.Key_Return, QMessageBox)  # the refusal, shown by ui.errors
    qtbot.waitUntil(lambda: bool(refusal), timeout=WAIT)
    assert "mandatory action" in refusal[0]
    for action in verbal.actions:
        if action.mandatory:
            incidents.complete_action(store, actors["nurse"], action.action_id, "Done as the guidance says.")
    page.open_incident(verbal.incident_id)
    qtbot.waitUntil(lambda: all(a.status != "open" or not a.mandatory for a in page.detail.actions), timeout=WAIT)
    press_later(Qt.Key.Key_Y, QMessageBox)
    qtbot.mouseClick(page.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.status == "closed", timeout=WAIT)
    assert page.reopen_button.isEnabled() and not page.close_button.isEnabled()
    qtbot.mouseClick(page.reopen_button, Qt.MouseButton.LeftButton)
    dialog = modal(qtbot, TextDialog)
    qtbot.keyClicks(dialog.text, "New information from the patient.")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.status == "in_review", timeout=WAIT)


def test_restricted_record_is_hidden_from_other_wards_and_the_views_are_logged_for_the_lead(qtbot, env):
    store, actors, _wards, (_assault, _verbal, restricted), contexts = env
    rid = restricted.incident_id
    elm = ReviewPage(contexts("manager_elm"))
    qtbot.addWidget(elm)
    qtbot.waitUntil(lambda: not elm.list_model.fetching, timeout=WAIT)
    assert rid not in listed(elm)
    manager = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, manager, rid)
    assert "RESTRICTED" in manager.title.text()
    lead = open_page(qtbot, contexts("lead"))
    lead.restricted_only.setChecked(True)
    qtbot.waitUntil(lambda: listed(lead) == [rid], timeout=WAIT)
    open_by_keyboard(qtbot, lead, rid)
    assert sorted(views_of(store, rid)) == ["lead", "manager"]
    qtbot.mouseClick(lead.view_log_button, Qt.MouseButton.LeftButton)
    log = modal(qtbot, ViewLogDialog)
    who = [(r.username, r.incident_reference) for r in log.model.rows]
    assert who == [("lead", restricted.reference), ("manager", restricted.reference)]
    log.reject()
    assert not hasattr(manager, "view_log_button")


def test_nurses_and_the_named_staff_member_get_no_review_tab(qtbot, env):
    _store, _actors, _wards, _seeded, contexts = env
    for username in ("nurse", "nurse2"):
        window = MainWindow(contexts(username), "test")
        qtbot.addWidget(window)
        assert window.page(ReviewPage) is None
        titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
        assert "Review" not in titles and "Actions" not in titles and "Dashboard" not in titles


def active(qtbot, cls):
    dialog = modal(qtbot, cls)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=WAIT)
    return dialog


def test_review_dialogs_open_in_their_first_input_and_enter_never_presses_ok_while_empty(qtbot, env):
    _store, _actors, _wards, (assault, _verbal, _restricted), contexts = env
    page = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, page, assault.incident_id)
    for button, cls, first in ((page.edit_button, EditDialog, "types"), (page.harm_button, HarmDialog, "physical"),
                               (page.feedback_button, TextDialog, "text")):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        dialog = active(qtbot, cls)
        assert QApplication.focusWidget() is getattr(dialog, first), cls.__name__
        assert not dialog.ok.hasFocus() and not dialog.ok.autoDefault(), cls.__name__
        if cls is EditDialog:
            assert not dialog.ok.isDefault()  # the reason is empty
            dialog.reason.setFocus()
            qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
            assert dialog.isVisible()
        dialog.reject()


def test_a_manager_reopens_a_finished_action_with_a_reason(qtbot, env):
    store, actors, _wards, (assault, _verbal, _restricted), contexts = env
    action = next(a for a in assault.actions if a.mandatory)
    incidents.complete_action(store, actors["nurse"], action.action_id, "Patients separated on the ward.")
    page = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, page, assault.incident_id)
    page.tabs.setCurrentIndex(1)
    row = next(i for i, a in enumerate(page.actions_model.rows) if a.action_id == action.action_id)
    page.actions.setFocus()
    page.actions.selectRow(row)
    qtbot.mouseClick(page.reopen_action_button, Qt.MouseButton.LeftButton)
    dialog = active(qtbot, TextDialog)
    assert assault.reference in dialog.intro.text()
    assert QApplication.focusWidget() is dialog.text and not dialog.ok.isDefault()
    qtbot.keyClicks(dialog.text, "Too")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)  # core refuses a reason that is not a sentence
    qtbot.waitUntil(lambda: dialog.problem.text().startswith("Reason:") and dialog.isVisible(), timeout=WAIT)
    qtbot.keyClicks(dialog.text, " soon: the patients met again at lunch.")
    assert dialog.ok.isDefault()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(a.action_id == action.action_id and a.status == "open"
                                for a in page.detail.actions), timeout=WAIT)
    page.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: page.versions_model.rowCount() >= 1, timeout=WAIT)
    last = page.versions_model.rowCount() - 1
    page._show_version(page.versions_model.index(last, 0))
    shown = page.version_text.toPlainText()
    assert "Action reopened" in shown and "Patients separated on the ward." in shown


def test_an_edit_over_a_colleagues_newer_change_is_refused_keeps_the_typing_and_shows_theirs(qtbot, env,
                                                                                             announcements):
    """Issue 16 item 4: the lead changes the harm grading while the manager has the incident open; the manager's
    edit is not saved over it. The dialog stays open with what was typed and says who changed what (its problem
    line is read out), the page shows the lead's grading, and OK again saves the edit over the version now shown."""
    store, actors, _wards, (assault, _verbal, _restricted), contexts = env
    page = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, page, assault.incident_id)
    opened = page.detail.version
    incidents.confirm_harm(store, actors["lead"], assault.incident_id, "low", "severe", "Spoke with the patient.")
    page.edit_button.setFocus()
    qtbot.keyClick(page.edit_button, Qt.Key.Key_Space)
    dialog = active(qtbot, EditDialog)
    dialog.description.setFocus()
    qtbot.keyClick(dialog.description, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.description, " Synthetic: the manager's added sentence.")
    dialog.reason.setFocus()
    qtbot.keyClicks(dialog.reason, "Clearer wording")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "(lead)" in dialog.problem.text() and dialog.isVisible(), timeout=WAIT)
    assert "harm" in dialog.problem.text() and "still here" in dialog.problem.text()
    assert dialog.problem.accessibleName() == "" and dialog.problem.urgent  # a LiveLabel: its text is read out
    assert any(widget is dialog.problem and "(lead)" in message and urgent
               for widget, message, urgent in announcements)  # said at once, interrupting the screen reader
    assert dialog.description.toPlainText().endswith("the manager's added sentence.")
    assert dialog.reason.text() == "Clearer wording"
    qtbot.waitUntil(lambda: page.detail.version > opened, timeout=WAIT)
    assert page.detail.harm_psychological == "severe" and "Severe" in page.record.toPlainText()
    assert incidents.get_incident(store, actors["lead"], assault.incident_id).draft.description == \
        assault.draft.description  # nothing of the refused edit was written
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # seen now: the edit goes over the version on screen
    qtbot.waitUntil(lambda: page.detail.draft.description.endswith("added sentence."), timeout=WAIT)
    assert not dialog.isVisible()
    assert page.detail.harm_psychological == "severe"  # the edit kept the lead's grading


def test_feedback_over_a_colleagues_newer_feedback_is_refused_and_the_note_kept(qtbot, env):
    store, actors, _wards, (assault, _verbal, _restricted), contexts = env
    page = open_page(qtbot, contexts("manager"))
    open_by_keyboard(qtbot, page, assault.incident_id)
    incidents.set_feedback(store, actors["lead"], assault.incident_id, "Thank you: the police were told.")
    page.feedback_button.setFocus()
    qtbot.keyClick(page.feedback_button, Qt.Key.Key_Space)
    dialog = active(qtbot, TextDialog)
    qtbot.keyClicks(dialog.text, "Thanks for reporting.")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "feedback to the reporter" in dialog.problem.text() and dialog.isVisible(),
                    timeout=WAIT)
    assert dialog.value() == "Thanks for reporting."
    qtbot.waitUntil(lambda: page.detail.feedback_note == "Thank you: the police were told.", timeout=WAIT)
    dialog.reject()
