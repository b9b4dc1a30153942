"""The guided incident form, driven through real widgets by keyboard and mouse on a real encrypted store."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from core.services import incidents
from tests.ui.nurse_helpers import WAIT, focused, form_of, keyboard_report, press


def test_keyboard_only_fast_path_submits(nurse_window, qtbot):
    controller, window, actors, _wards = nurse_window
    form = keyboard_report(qtbot, window)
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    detail = form.prompts.detail
    assert detail.status == "submitted" and detail.reference.startswith("LAN-")
    draft = detail.draft
    assert draft.types == ("SS-HAR-V",) and draft.location == "lounge"
    affected = [p for p in draft.people if p.role == "affected"][0]
    assert (affected.person_type, affected.local_ref) == ("staff", "CD")
    assert (affected.harm_physical, affected.harm_psychological) == ("none", "moderate")
    # the form is empty again, ready for the next report
    assert form.stack.currentIndex() == 0 and not form.has_content()


def test_fast_path_needs_at_most_eight_inputs(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    inputs = []

    def give(name, action):
        inputs.append(name)
        action()

    give("type", lambda: form.types.types.item(0).setCheckState(Qt.CheckState.Checked))
    give("time", lambda: form.when.time.setText("00:01"))
    give("location", lambda: form.when.location.setCurrentIndex(1))
    give("affected type", lambda: form.people.editors[0].person_type.setCurrentIndex(1))
    give("perpetrator type", lambda: form.people.editors[1].person_type.setCurrentIndex(1))
    form.go(3)
    groups = list(form.harm.groups.values())
    give("physical harm", lambda: groups[0].buttons()[0].setChecked(True))
    give("psychological harm", lambda: groups[1].buttons()[1].setChecked(True))
    give("description", lambda: form.description.description.setPlainText("Synthetic test text."))
    assert len(inputs) <= 8
    assert form.problems() == {}
    # and every one of them really is needed: the empty form lists each missing item in plain English
    form.reset()
    missing = incidents.validate_draft(form.current_draft(), for_submit=True)
    assert {"types", "occurred_at", "location", "people", "people.perpetrator", "description"} <= set(missing)


def test_summary_lists_what_is_missing_and_enter_goes_there(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter: straight to the summary
    assert form.stack.currentWidget() is form.summary
    items = [form.summary.missing.item(i).text() for i in range(form.summary.missing.count())]
    assert "Choose at least one type of incident." in items
    assert any("Describe briefly" in text for text in items)
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # try to send anyway
    assert "cannot be sent yet" in form.summary.message.text()
    form.summary.missing.setFocus()
    form.summary.missing.setCurrentRow(items.index("Describe briefly what happened."))
    press(qtbot, Qt.Key.Key_Return)
    assert form.stack.currentWidget() is form.description and focused() is form.description.description
    # inline message next to the field, in plain English, not by colour alone
    label = form.description.errors["description"]
    assert label.isVisible() and label.text() == "Needed: Describe briefly what happened."


def test_inline_time_validation(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.go(1)
    qtbot.keyClicks(form.when.time, "25:99")
    form.go(2)
    assert form.when.errors["occurred_at"].text() == "Needed: Type the time as hours and minutes, for example 21:40."
    form.go(1)
    form.when.time.clear()
    form.when.approximate.setChecked(True)
    qtbot.keyClicks(form.when.time, "03:00")
    form.go(2)
    assert "shift" in form.when.errors["shift"].text()


def test_definitions_follow_the_highlighted_type(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.go(0)
    press(qtbot, Qt.Key.Key_Down, times=2)
    assert "Sexual assault (touching)" in form.types.meaning.text()
    assert "through clothes" in form.types.meaning.text()
    press(qtbot, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: form.types.definition_box is not None and form.types.definition_box.isVisible())
    assert "through clothes" in form.types.definition_box.text()
    form.types.definition_box.close()


def test_mouse_people_add_and_remove(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    window.tabs.setCurrentWidget(form)
    form.go(2)
    qtbot.mouseClick(form.people.add, Qt.MouseButton.LeftButton)
    assert len(form.people.editors) == 3 and form.people.editors[2].title() == "Person 3: witness"
    qtbot.mouseClick(form.people.editors[0].more, Qt.MouseButton.LeftButton)
    assert form.people.editors[0].details.isVisible()
    qtbot.mouseClick(form.people.editors[1].remove, Qt.MouseButton.LeftButton)
    assert [e.title() for e in form.people.editors] == ["Person 1: affected person", "Person 2: witness"]
    assert form.people.editors[0].ref.placeholderText() == "Initials or hospital number, never a name"


def test_privacy_guard_warns_without_blocking(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.go(4)
    qtbot.keyClicks(form.description.description, "Patient rang 07700 900123 after.")
    guard = form.description.description_guard
    qtbot.waitUntil(lambda: guard.label.isVisible(), timeout=WAIT)
    assert "phone number" in guard.label.text() and "pseudonymous reference" in guard.label.text()
    assert form.description.description.toPlainText().endswith("after.")  # nothing removed, nothing blocked
    form.description.description.clear()
    qtbot.waitUntil(lambda: not guard.label.isVisible(), timeout=WAIT)


def test_every_control_has_an_accessible_name(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QPlainTextEdit

    form.go(3)
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QPlainTextEdit)
    unnamed = [w for w in form.findChildren(QWidget) if isinstance(w, kinds) and not w.accessibleName()
               and not w.objectName().startswith("qt_")  # the inner line edit of a spin box
               and not (isinstance(w, QAbstractButton) and w.text())]
    assert unnamed == []


def test_tab_order_follows_reading_order(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.go(1)
    order = []
    for _ in range(5):
        order.append(QApplication.focusWidget())
        press(qtbot, Qt.Key.Key_Tab)
    w = form.when
    assert order == [w.day, w.time, w.just_now, w.approximate, w.shift]
