"""The action queue screen on a real encrypted store, driven by keyboard and mouse."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from core.db.models import SafeguardingAction
from core.db.store import unit_of_work
from core.services import closure, queue
from tests.core.manager_helpers import report
from tests.ui.manager_helpers import WAIT, Contexts, modal, seed
from tests.ui.nurse_helpers import focused, press, type_text
from ui.dialogs.actions import AddActionDialog, CompleteDialog, NotApplicableDialog, ReassignDialog
from ui.main_window import MainWindow
from ui.models.base import ROW_ROLE
from ui.models.manager import QueueModel
from ui.pages.action_queue import ActionQueuePage


@pytest.fixture
def env(make_store):
    store, actors, _recovery, wards = make_store()
    incidents = seed(store, actors, wards)
    contexts = Contexts(store, actors)
    yield store, actors, wards, incidents, contexts
    contexts.finish()


def open_page(qtbot, ctx) -> ActionQueuePage:
    page = ActionQueuePage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and "open actions" in page.counts.text(), timeout=WAIT)
    return page


def rows(page):
    return [page.model.data(page.model.index(r, 0), ROW_ROLE) for r in range(page.model.rowCount())]


def test_overdue_first_and_counts_shown(qtbot, env):
    store, actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    shown = rows(page)
    assert [r.due_at for r in shown] == sorted(r.due_at for r in shown)
    counts = queue.queue_counts(store, actors["manager"])
    assert f"{counts.open:,}</b> open actions" in page.counts.text()
    assert page.table.currentIndex().row() == 0  # the most urgent is selected, ready for Enter


def test_filter_by_type_with_the_keyboard_and_sort_by_clicking_a_header(qtbot, env):
    _store, _actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    before = page.model.rowCount()
    page.type.setFocus()
    target = page.type.findData("SS-HAR-V")
    for _ in range(target):
        qtbot.keyClick(page.type, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < before and all(
        "SS-HAR-V" in r.types for r in rows(page)), timeout=WAIT)
    header = page.table.horizontalHeader()
    x = header.sectionViewportPosition(QueueModel.COL_INCIDENT) + 5
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    qtbot.waitUntil(lambda: page.model.sort_key == "incident" and page.model.rowCount() > 0, timeout=WAIT)
    refs = [r.incident_reference for r in rows(page)]
    assert refs == sorted(refs) or refs == sorted(refs, reverse=True)


def test_complete_with_a_reference_by_keyboard(qtbot, env):
    store, _actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    police_row = next(i for i, r in enumerate(rows(page)) if (r.rule_id or "").startswith("police-")
                      and not closure.reference_required(r.rule_id))
    action_id = rows(page)[police_row].action_id
    page.table.setFocus()
    page.table.selectRow(police_row)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    dialog = modal(qtbot, CompleteDialog)
    assert "Crime reference" in dialog.reference.accessibleName()
    qtbot.keyClicks(dialog.note, "Discussed with the patient; they chose to report.")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.reference, "CR/2026/0042")
    qtbot.keyClick(dialog.reference, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: action_id not in {r.action_id for r in rows(page)}, timeout=WAIT)
    with unit_of_work(store, write=False) as session:
        action = session.get(SafeguardingAction, action_id)
        assert (action.status, action.reference) == ("done", "CR/2026/0042")


def test_an_empty_reason_keeps_the_dialog_open_with_the_message(qtbot, env):
    _store, _actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    qtbot.mouseClick(page.na_button, Qt.MouseButton.LeftButton)
    dialog = modal(qtbot, NotApplicableDialog)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)  # OK with the reason empty: core says what is missing
    qtbot.waitUntil(lambda: dialog.problem.text().startswith("Reason:") and dialog.isVisible(), timeout=WAIT)
    dialog.reject()


def active(qtbot, cls):
    """The next dialog of `cls`, once the window system has made it the active window (keys go there)."""
    dialog = modal(qtbot, cls)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=WAIT)
    return dialog


def open_complete_by_enter(qtbot, page, row: int) -> CompleteDialog:
    page.table.setFocus()
    page.table.selectRow(row)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    return active(qtbot, CompleteDialog)


def status_of(store, action_id):
    with unit_of_work(store, write=False) as session:
        action = session.get(SafeguardingAction, action_id)
        return action.status, action.note


def test_enter_on_a_row_then_typing_a_note_never_closes_the_action(qtbot, env):
    """Issue 11 blocker 2: the dialog opened with focus on OK, so the first space completed the action blank."""
    store, _actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    first = rows(page)[0]
    dialog = open_complete_by_enter(qtbot, page, 0)
    assert focused() is dialog.note
    assert not dialog.ok.isDefault() and not dialog.ok.autoDefault() and not dialog.ok.hasFocus()
    assert first.incident_reference in dialog.intro.text() and first.incident_reference in dialog.windowTitle()
    press(qtbot, Qt.Key.Key_Space)                      # a stray space first, as in the report
    type_text(qtbot, "Spoke with the patient and the nurse in charge")
    press(qtbot, Qt.Key.Key_Return)
    type_text(qtbot, "about next steps")
    qtbot.wait(200)
    assert dialog.isVisible()
    assert dialog.note.toPlainText() == " Spoke with the patient and the nurse in charge\nabout next steps"
    assert status_of(store, first.action_id)[0] == "open"
    dialog.reject()


TRUST_RULE = '''version = 1

[[rules]]
id = "police-report-now-trust"
title = "Report to the police now"
guidance = "Synthetic trust rule for the test: telling the police gives a crime reference."
why = "Synthetic."
deadline = { kind = "immediate" }
owner_role = "ward_manager"
mandatory = true
requires_reference = true
source = "Synthetic test rule."
[rules.when]
always = true
'''


def test_enter_with_a_required_field_empty_does_nothing(qtbot, env, tmp_path, monkeypatch):
    store, actors, wards, _incidents, contexts = env
    override = tmp_path / "rules-local.toml"
    override.write_text(TRUST_RULE, encoding="utf-8")
    monkeypatch.setenv("LANTERN_RULES_OVERRIDE", str(override))
    report(store, actors["nurse"], wards["Oak Ward"])
    page = open_page(qtbot, contexts("manager"))
    index = next(i for i, r in enumerate(rows(page)) if r.rule_id == "police-report-now-trust")
    action_id = rows(page)[index].action_id
    dialog = open_complete_by_enter(qtbot, page, index)
    assert dialog.needs_reference and "(if there is one)" not in dialog.reference.accessibleName()
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is dialog.reference
    press(qtbot, Qt.Key.Key_Return)                     # note and reference both empty
    type_text(qtbot, "CR/2026/0099")
    press(qtbot, Qt.Key.Key_Return)                     # reference given, note still empty
    qtbot.wait(200)
    assert dialog.isVisible() and not dialog.ok.isDefault()
    assert status_of(store, action_id) == ("open", "")
    dialog.note.setFocus()
    type_text(qtbot, "Police told by phone")
    assert dialog.ok.isDefault()                        # every required field filled: Enter may now press OK
    dialog.reference.setFocus()
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: status_of(store, action_id)[0] == "done", timeout=WAIT)


def test_the_queue_keeps_its_place_after_an_action(qtbot, env):
    store, _actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    assert page.model.rowCount() > 3
    before = rows(page)
    dialog = open_complete_by_enter(qtbot, page, 2)
    type_text(qtbot, "Done as the guidance says, with the patient.")
    if dialog.needs_reference:
        dialog.reference.setText("REF-2026-1")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: before[2].action_id not in {r.action_id for r in rows(page)}, timeout=WAIT)
    qtbot.waitUntil(lambda: page.table.currentIndex().row() == 2, timeout=WAIT)
    assert page.selected().action_id == before[3].action_id   # the next one, where the finished one was


def test_every_queue_dialog_opens_in_its_first_input_with_no_default_button(qtbot, env):
    _store, _actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    for button, cls, first in ((page.complete_button, CompleteDialog, "note"),
                               (page.na_button, NotApplicableDialog, "reason"),
                               (page.reassign_button, ReassignDialog, "to_person"),
                               (page.add_button, AddActionDialog, "title")):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        dialog = active(qtbot, cls)
        assert focused() is getattr(dialog, first), cls.__name__
        assert not any(b.isDefault() or b.autoDefault() for b in dialog.buttons.buttons()
                       if b is not dialog.ok or dialog._required), cls.__name__
        press(qtbot, Qt.Key.Key_Space)
        assert dialog.isVisible(), cls.__name__
        dialog.reject()


def test_reassign_to_a_person_with_the_mouse(qtbot, env):
    store, actors, _wards, _incidents, contexts = env
    page = open_page(qtbot, contexts("manager"))
    first = rows(page)[0]
    qtbot.mouseClick(page.reassign_button, Qt.MouseButton.LeftButton)
    dialog = modal(qtbot, ReassignDialog)
    names = [dialog.person.itemText(i) for i in range(dialog.person.count())]
    assert any(n.startswith("nurse2") for n in names) and not any(n.startswith("manager_elm") for n in names)
    dialog.person.setCurrentIndex(next(i for i, n in enumerate(names) if n.startswith("nurse2")))
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.action_id == first.action_id and r.owner == "nurse2" for r in rows(page)),
                    timeout=WAIT)
    with unit_of_work(store, write=False) as session:
        assert session.scalar(select(SafeguardingAction.assigned_user_id).where(
            SafeguardingAction.id == first.action_id)) == actors["nurse2"].user_id


def test_status_bar_shows_the_overdue_count_for_each_account(qtbot, env, monkeypatch):
    store, actors, _wards, incidents, contexts = env
    from datetime import timedelta

    from core.clock import utcnow

    later = utcnow() + timedelta(days=60)
    monkeypatch.setattr(queue, "utcnow", lambda: later)
    for username in ("manager", "nurse2", "manager_elm"):
        window = MainWindow(contexts(username), "test")
        qtbot.addWidget(window)
        expected = queue.overdue_count(store, actors[username])
        text = f"Overdue actions: {expected}" if expected else "No overdue actions"
        qtbot.waitUntil(lambda w=window, t=text: w.overdue_label.text() == t, timeout=WAIT)
    restricted_id = incidents[2].incident_id
    named = queue.list_queue(store, actors["nurse2"], limit=500).rows
    assert restricted_id not in {r.incident_id for r in named}
    assert queue.overdue_count(store, actors["nurse2"]) < queue.overdue_count(store, actors["manager"])
