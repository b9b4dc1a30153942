"""The yes / no / not known safeguarding questions on each person (issue 12 A): visible without opening a
panel, answered by keyboard, named for a screen reader with why we ask, and kept by autosave."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import Qt

from core.clock import utcnow
from core.services import drafts, incidents
from tests.ui.nurse_helpers import WAIT, focused, form_of, press, type_text
from ui.pages.incident_form.people import QUESTIONS


def _people_step(window):
    form = form_of(window)
    window.tabs.setCurrentWidget(form)
    form.go(2)
    return form


def _answer(qtbot, key_presses: int) -> None:
    """Move from 'not known' along the answers with the arrow key (the order is not known, yes, no)."""
    press(qtbot, Qt.Key.Key_Right, times=key_presses)


def test_the_questions_are_on_show_and_answered_by_keyboard(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = _people_step(window)
    affected = form.people.editors[0]
    assert not affected.more.isChecked()
    affected.person_type.setFocus()
    type_text(qtbot, "Patient")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "CD")
    for key, *_rest in QUESTIONS:  # every question, visible with the "more" panel shut
        assert affected.questions[key].isVisibleTo(form) and affected.questions[key].why.isVisibleTo(form), key
        assert affected.questions[key].value() is None, key  # not known until answered

    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is affected.questions["under_18"].buttons[0]
    _answer(qtbot, 2)                                   # under 18: no
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is affected.questions["detained"].buttons[0]
    _answer(qtbot, 1)                                   # detained: yes
    press(qtbot, Qt.Key.Key_Tab)
    _answer(qtbot, 2)                                   # capacity in doubt: no
    press(qtbot, Qt.Key.Key_Tab)
    _answer(qtbot, 2)                                   # care and support needs: no
    press(qtbot, Qt.Key.Key_Tab)
    _answer(qtbot, 1)                                   # could become pregnant: yes
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is affected.questions["police_wishes"].buttons[0]
    _answer(qtbot, 2)                                   # police: does not want them told
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is affected.more

    person = form.current_draft().people[0]
    assert (person.under_18, person.detained, person.capacity_concern, person.care_support_needs,
            person.could_become_pregnant, person.police_wishes) == (False, True, False, False, True, "no")


def test_answering_gives_a_shorter_exact_list(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = _people_step(window)
    affected, perpetrator = form.people.editors
    affected.person_type.setCurrentIndex(affected.person_type.findData("patient"))
    perpetrator.person_type.setCurrentIndex(perpetrator.person_type.findData("patient"))

    def checks() -> set[str]:
        draft = replace(form.current_draft(), types=("SS-SA",), occurred_at=utcnow() - timedelta(hours=1),
                        location="lounge")
        return {a.rule_id for a in incidents.actions_for(draft, utcnow()) if a.kinds != (a.rule_id,)}

    blank = checks()
    assert {"imha-check", "capacity-check", "police-wishes-ask", "childrens-social-care-check"} <= blank
    for editor in (affected, perpetrator):
        for key, choice in editor.questions.items():
            if editor.asked(key) and key != "police_wishes":
                choice.set_value(False)
    affected.questions["police_wishes"].set_value("no")
    assert checks() == set()


def test_every_answer_is_named_with_its_question_and_why(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = _people_step(window)
    for editor in form.people.editors:
        for key, question, name, why, _roles in QUESTIONS:
            choice = editor.questions[key]
            assert editor.question_labels[key].text() == question
            assert choice.why.text() and choice.accessibleDescription() == why
            for button in choice.buttons:
                assert button.accessibleName() == f"{name}: {button.text()}"
                assert button.accessibleDescription() == why


def test_only_the_questions_a_rule_reads_are_asked(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = _people_step(window)
    witness = form.people.add_person("witness")
    qtbot.waitUntil(witness.isVisible)  # a widget added to a shown layout is shown from the event loop
    shown = lambda editor: {k for k, c in editor.questions.items() if c.isVisibleTo(form)}  # noqa: E731
    assert shown(witness) == {"under_18"}
    perpetrator = form.people.editors[1]
    assert shown(perpetrator) == {"under_18", "capacity_concern"}
    affected = form.people.editors[0]
    affected.person_type.setCurrentIndex(affected.person_type.findData("staff"))
    assert "detained" not in shown(affected) and "care_support_needs" in shown(affected)
    affected.person_type.setCurrentIndex(affected.person_type.findData("patient"))
    assert shown(affected) == {q[0] for q in QUESTIONS}


def test_an_age_answers_under_18(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = _people_step(window)
    affected = form.people.editors[0]
    qtbot.mouseClick(affected.more, Qt.MouseButton.LeftButton)
    affected.age.setFocus()
    affected.age.lineEdit().selectAll()
    type_text(qtbot, "15")
    assert affected.questions["under_18"].value() is True
    affected.age.lineEdit().selectAll()
    type_text(qtbot, "19")
    assert affected.questions["under_18"].value() is False


def test_the_answers_survive_autosave_and_come_back_into_the_form(nurse_window, qtbot):
    controller, window, actors, _wards = nurse_window
    form = _people_step(window)
    affected = form.people.editors[0]
    affected.person_type.setCurrentIndex(affected.person_type.findData("patient"))
    affected.questions["under_18"].set_value(False)
    affected.questions["could_become_pregnant"].set_value(True)
    affected.questions["detained"].set_value(False)
    affected.questions["police_wishes"].set_value("undecided")
    typed = form.current_draft().people
    assert form.dirty
    form.save_now()
    qtbot.waitUntil(lambda: form.saved.text().startswith("Draft saved at"), timeout=WAIT)
    assert controller.runner.wait(WAIT)
    saved = drafts.load_form(controller.session.store, actors["nurse"])
    assert saved.form.draft.people == typed

    form.reset()
    assert form.people.editors[0].questions["under_18"].value() is None
    form.load(saved.form)
    answers = form.people.editors[0].questions
    assert (answers["under_18"].value(), answers["could_become_pregnant"].value(), answers["detained"].value(),
            answers["police_wishes"].value(), answers["care_support_needs"].value()) == (
        False, True, False, "undecided", None)
