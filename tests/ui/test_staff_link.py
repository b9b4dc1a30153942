"""Linking a staff member named as alleged perpetrator to their Lantern account, in the report form and in the
review Edit dialog, driven through real widgets by keyboard and mouse on a real encrypted store.

The point of the link: the linked account can no longer open or list the report. Synthetic data only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox

from core.errors import NotFound
from core.services import incidents, review
from core.services.review import IncidentQuery
from tests.core.manager_helpers import report
from tests.ui.manager_helpers import WAIT, Contexts, modal
from tests.ui.nurse_helpers import ANSWERS_PERPETRATOR, alt, focused, form_of, press, sign_in, type_text
from ui.app import AppController
from ui.dialogs.incident import EditDialog
from ui.pages.incident_form.people import ACCOUNT_HINT, ACCOUNT_LABEL, NOT_LINKED
from ui.pages.review import ReviewPage

SHOTS = os.environ.get("LANTERN_SCREENSHOTS")


# ----- helpers ------------------------------------------------------------------------------------------



def accounts_in(box: QComboBox) -> list[str]:
    return [box.itemText(i) for i in range(box.count())]


def choose_by_mouse(qtbot, box: QComboBox, text: str) -> None:
    """Click the combo open, then click the item, as a person with a mouse would."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    view = box.view()
    qtbot.waitUntil(view.isVisible, timeout=WAIT)
    # Qt ignores a release that comes within a double-click interval of the click that opened the popup.
    qtbot.wait(QApplication.doubleClickInterval() + 100)
    rect = view.visualRect(box.model().index(box.findText(text), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=WAIT)


def fill_the_rest(form) -> None:
    """The pages this test is not about, filled directly (the keyboard path is covered in test_incident_form)."""
    form.types.types.item(0).setCheckState(Qt.CheckState.Checked)
    form.when.day.setCurrentIndex(1)
    form.when.time.setText("21:40")
    form.when.location.setCurrentIndex(form.when.location.findData("lounge"))
    affected = form.people.editors[0]
    affected.person_type.setCurrentIndex(affected.person_type.findData("patient"))
    affected.ref.setText("P-12")
    form.go(3)
    groups = list(form.harm.groups.values())
    groups[0].buttons()[0].setChecked(True)
    groups[1].buttons()[1].setChecked(True)
    form.description.description.setPlainText("Synthetic: a made-up allegation about a member of staff.")


def can_open(store, actor, incident_id: str) -> bool:
    try:
        incidents.get_incident(store, actor, incident_id)
    except NotFound:
        return False
    return True


def listed_for(store, actor) -> set[str]:
    return {row.incident_id for row in review.list_incidents(store, actor, IncidentQuery(status=None)).rows}


# ----- the report form ------------------------------------------------------------------------------------

def test_form_keyboard_links_a_staff_perpetrator_and_that_account_loses_sight(nurse_window, qtbot):
    controller, window, actors, _wards = nurse_window
    form = form_of(window)
    perpetrator = form.people.editors[1]
    qtbot.waitUntil(lambda: perpetrator.choices_loaded, timeout=WAIT)
    form.go(2)
    assert not perpetrator.account.isVisibleTo(form)  # nothing to link until they are staff
    perpetrator.person_type.setFocus()
    type_text(qtbot, "Staff")
    assert perpetrator.person_type.currentData() == "staff"
    assert perpetrator.account.isVisibleTo(form)
    assert perpetrator.account.accessibleName() == ACCOUNT_LABEL
    assert perpetrator.account.accessibleDescription() == ACCOUNT_HINT
    assert perpetrator.account_hint.text() == ACCOUNT_HINT and perpetrator.account_hint.isVisibleTo(form)
    assert accounts_in(perpetrator.account) == [NOT_LINKED, "lead (Safeguarding lead)", "manager (Ward manager)",
                                                "nurse2 (Nurse)"]
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "S-4")                                    # reference
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is perpetrator.account                    # the account is next in the Tab order
    press(qtbot, Qt.Key.Key_Down, times=2)                     # Not linked -> lead -> manager
    assert perpetrator.account.currentText() == "manager (Ward manager)"
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is perpetrator.questions["under_18"].buttons[0]  # then the questions, not known to start
    press(qtbot, Qt.Key.Key_Tab, times=ANSWERS_PERPETRATOR)
    assert focused() is perpetrator.more
    alt(qtbot, Qt.Key.Key_C)                                   # Alt+C goes back to the account
    assert focused() is perpetrator.account

    fill_the_rest(form)
    draft = form.current_draft()
    assert draft.people[1].linked_user_id == actors["manager"].user_id
    form.go(5)
    assert "their Lantern account is linked" in form.summary.text.text()
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    detail = form.prompts.detail
    form.prompts.accept()
    controller.runner.wait()

    store = controller.session.store
    stored = incidents.get_incident(store, actors["lead"], detail.incident_id)
    assert stored.restricted
    assert stored.draft.people[1].linked_user_id == actors["manager"].user_id
    assert not can_open(store, actors["manager"], detail.incident_id)
    assert detail.incident_id not in listed_for(store, actors["manager"])
    assert detail.incident_id in listed_for(store, actors["lead"])
    assert not can_open(store, actors["nurse2"], detail.incident_id)  # other nurses: restricted, so never


def test_form_mouse_link_is_cleared_when_they_are_not_staff(nurse_window, qtbot):
    _controller, window, actors, _wards = nurse_window
    form = form_of(window)
    perpetrator = form.people.editors[1]
    qtbot.waitUntil(lambda: perpetrator.choices_loaded, timeout=WAIT)
    form.go(2)
    choose_by_mouse(qtbot, perpetrator.person_type, "Staff member")
    choose_by_mouse(qtbot, perpetrator.account, "nurse2 (Nurse)")
    assert perpetrator.person().linked_user_id == actors["nurse2"].user_id
    choose_by_mouse(qtbot, perpetrator.person_type, "Patient")
    assert not perpetrator.account.isVisibleTo(form)
    assert perpetrator.person().linked_user_id is None
    choose_by_mouse(qtbot, perpetrator.person_type, "Staff member")
    assert perpetrator.account.currentText() == NOT_LINKED  # a link never comes back by itself
    # the affected person and witnesses are not offered a link (it would hide the report from them)
    affected = form.people.editors[0]
    choose_by_mouse(qtbot, affected.person_type, "Staff member")
    assert not affected.account.isVisibleTo(form) and affected.person().linked_user_id is None


def test_form_link_comes_back_with_the_saved_draft(nurse_window, qtbot, password):
    controller, window, actors, _wards = nurse_window
    form = form_of(window)
    perpetrator = form.people.editors[1]
    qtbot.waitUntil(lambda: perpetrator.choices_loaded, timeout=WAIT)
    affected = form.people.editors[0]
    affected.person_type.setCurrentIndex(affected.person_type.findData("patient"))
    perpetrator.person_type.setCurrentIndex(perpetrator.person_type.findData("staff"))
    perpetrator.account.setCurrentIndex(perpetrator.account.findData(actors["manager"].user_id))
    form.go(2)
    form.save_now()
    qtbot.waitUntil(lambda: form.saved.text().startswith("Draft saved"), timeout=WAIT)
    controller.shutdown()

    again = AppController(controller.folder)
    try:
        window = sign_in(qtbot, again, "nurse", password)
        form = form_of(window)
        qtbot.waitUntil(lambda: len(form.people.editors) == 2
                        and form.people.editors[1].person_type.currentData() == "staff", timeout=WAIT)
        restored = form.people.editors[1]
        qtbot.waitUntil(lambda: restored.choices_loaded, timeout=WAIT)
        assert restored.account.currentData() == actors["manager"].user_id
        assert restored.account.currentText() == "manager (Ward manager)"
        assert form.current_draft().people[1].linked_user_id == actors["manager"].user_id
    finally:
        again.shutdown()


# ----- the review Edit dialog -------------------------------------------------------------------------------

@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    unlinked = report(store, actors["nurse"], wards["Oak Ward"], perpetrator="staff", types=("SS-HAR-V",),
                      local_ref="S-9")
    contexts = Contexts(store, actors)
    yield store, actors, wards, unlinked, contexts
    contexts.finish()


def open_edit(qtbot, ctx, incident_id) -> tuple[ReviewPage, EditDialog]:
    page = ReviewPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 800)
    page.show()
    qtbot.waitUntil(lambda: page.list_model.rowCount() > 0, timeout=WAIT)
    rows = [page.list_model.rows[i].incident_id for i in range(page.list_model.rowCount())]
    page.list.setFocus()
    page.list.selectRow(rows.index(incident_id))
    qtbot.keyClick(page.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.detail is not None and page.detail.incident_id == incident_id, timeout=WAIT)
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    dialog = modal(qtbot, EditDialog)
    qtbot.waitUntil(lambda: dialog.people.staff_choices_loaded, timeout=WAIT)
    return page, dialog


def test_lead_links_the_account_in_edit_and_it_loses_sight(qtbot, env):
    store, actors, _wards, unlinked, contexts = env
    incident_id = unlinked.incident_id
    assert can_open(store, actors["manager"], incident_id)  # restricted, but the ward's manager may read it
    page, dialog = open_edit(qtbot, contexts("lead"), incident_id)
    editors = dialog.people.editors
    assert [e.role.currentData() for e in editors] == ["affected", "alleged_perpetrator"]
    assert editors[0].ref.text() == "A-100" and editors[1].ref.text() == "S-9"
    perpetrator = editors[1]
    assert perpetrator.account.isVisibleTo(dialog) and perpetrator.account.currentText() == NOT_LINKED
    assert "lead (Safeguarding lead)" not in accounts_in(perpetrator.account)  # never yourself
    perpetrator.ref.setFocus()
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is perpetrator.account
    type_text(qtbot, "manager")                                # keyboard search in the list
    assert perpetrator.account.currentData() == actors["manager"].user_id

    dialog.reason.setFocus()
    press(qtbot, Qt.Key.Key_Return)                            # Enter without a reason does nothing (issue 11)
    assert dialog.isVisible() and not dialog.ok.isDefault()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)     # OK without a reason: refused, in plain English
    qtbot.waitUntil(lambda: "Say why you are changing" in dialog.problem.text(), timeout=WAIT)
    dialog = modal(qtbot, EditDialog)
    assert dialog.people.editors[1].account.currentData() == actors["manager"].user_id  # nothing lost
    dialog.reason.setFocus()
    type_text(qtbot, "Staff member's account linked so they cannot read this")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.detail is not None and page.detail.version == 2, timeout=WAIT)
    contexts.finish()

    stored = incidents.get_incident(store, actors["lead"], incident_id)
    assert stored.draft.people[1].linked_user_id == actors["manager"].user_id
    # harm grades and the other facts are unchanged
    assert stored.draft.people[0].harm_physical == unlinked.draft.people[0].harm_physical
    assert stored.draft.description == unlinked.draft.description
    versions = incidents.list_versions(store, actors["lead"], incident_id)
    assert [v.reason for v in versions] == ["Staff member's account linked so they cannot read this"]
    assert versions[0].snapshot["people"][1]["linked_user_id"] is None  # the earlier version is kept
    assert not can_open(store, actors["manager"], incident_id)
    assert incident_id not in listed_for(store, actors["manager"])
    assert "a Lantern account holder" in page.record.toPlainText()


def test_edit_keeps_a_link_to_an_account_not_on_the_list(qtbot, env):
    """A link to an account no longer listed (switched off, moved ward) is shown and kept, never dropped."""
    store, actors, wards, _unlinked, contexts = env
    from core.services import accounts

    linked = report(store, actors["nurse"], wards["Oak Ward"], perpetrator="staff",
                    linked_user_id=actors["nurse2"].user_id, local_ref="S-2")
    accounts.deactivate_user(store, actors["admin"], actors["nurse2"].user_id)
    _page, dialog = open_edit(qtbot, contexts("manager"), linked.incident_id)
    perpetrator = dialog.people.editors[1]
    assert perpetrator.account.currentText() == "Linked to an account not on this list"
    draft, _reason = dialog.values()
    assert draft.people[1].linked_user_id == actors["nurse2"].user_id
    dialog.reject()


# ----- screenshots for docs/ -------------------------------------------------------------------------------

@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_staff_link_screenshots(qtbot, nurse_window, make_store):
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    _controller, window, actors, _wards = nurse_window
    window.resize(1100, 800)
    form = form_of(window)
    editors = form.people.editors
    qtbot.waitUntil(lambda: editors[1].choices_loaded, timeout=WAIT)
    form.go(2)
    editors[0].person_type.setCurrentIndex(editors[0].person_type.findData("patient"))
    editors[0].ref.setText("CD")
    editors[1].person_type.setCurrentIndex(editors[1].person_type.findData("staff"))
    editors[1].ref.setText("S-4")
    editors[1].account.setCurrentIndex(editors[1].account.findData(actors["manager"].user_id))
    editors[1].account.setFocus()
    qtbot.wait(100)
    window.grab().save(str(out / "form-staff-link.png"))

    store, actors, _recovery, wards = make_store("review")
    incident = report(store, actors["nurse"], wards["Oak Ward"], perpetrator="staff", types=("SS-SA",),
                      flags=("physical_contact",), local_ref="S-4")
    contexts = Contexts(store, actors)
    try:
        _page, dialog = open_edit(qtbot, contexts("lead"), incident.incident_id)
        perpetrator = dialog.people.editors[1]
        perpetrator.account.setCurrentIndex(perpetrator.account.findData(actors["manager"].user_id))
        dialog.reason.setText("Linked the staff member's account so they cannot read this")
        perpetrator.account.setFocus()
        qtbot.wait(100)
        dialog.grab().save(str(out / "review-edit-people.png"))
        dialog.reject()
    finally:
        contexts.finish()
