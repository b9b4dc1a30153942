"""The prompts at submit: grouped now/today/later with due times, owners and why; tick done with a note."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt

from core.services import incidents
from tests.ui.nurse_helpers import WAIT, focused, keyboard_report, press, sign_in, type_text
from ui.app import AppController
from ui.pages.incident_form.wording import due_text, owner_text


def test_due_text_in_london_time():
    now = datetime(2026, 12, 28, 12, 0, tzinfo=UTC)
    assert due_text(datetime(2026, 12, 28, 14, 30, tzinfo=UTC), now) == "by 14:30 today"
    assert due_text(datetime(2026, 12, 29, 9, 0, tzinfo=UTC), now) == "by 09:00 tomorrow"
    assert due_text(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), now) == "by Thu 31 Dec"
    assert due_text(datetime(2027, 1, 4, 17, 0, tzinfo=UTC), now) == "by Mon 4 Jan 2027"
    assert due_text(datetime(2026, 12, 28, 11, 0, tzinfo=UTC), now) == "overdue since 11:00 today"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # British Summer Time: UTC+1
    assert due_text(datetime(2026, 7, 1, 13, 30, tzinfo=UTC), summer) == "by 14:30 today"
    assert owner_text("ward_manager", "") == "Ward manager"
    assert owner_text("nurse", "Nurse in charge") == "Nurse in charge"


def test_prompts_grouped_and_ticked_by_keyboard(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    form = keyboard_report(qtbot, window)
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    dialog = form.prompts
    assert dialog.reference.text() == dialog.detail.reference
    assert dialog.reference.font().pointSize() >= 20 or "28pt" in dialog.reference.styleSheet()
    groups = {a.group for a in dialog.detail.actions}
    assert "now" in groups
    for action_id, row in dialog.rows.items():
        action = next(a for a in dialog.detail.actions if a.action_id == action_id)
        assert (row.tick is not None) == (action.group == "now")
    first_now = next(row for row in dialog.rows.values() if row.tick)
    assert focused() is first_now.note
    type_text(qtbot, "Separated; AB moved to a room on the other corridor.")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is first_now.tick
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: first_now.state.text().startswith("Done at"), timeout=WAIT)
    detail = incidents.get_incident(controller.session.store, controller.session.actor, dialog.detail.incident_id)
    done = next(a for a in detail.actions if a.action_id == first_now.action.action_id)
    assert done.status == "done" and done.note.startswith("Separated")
    controller.shutdown()


def test_each_prompt_shows_its_deadline_basis_and_source_and_checks_read_as_checks(qtbot, make_store, password):
    """Issue 12 G: every deadline is marked national or local policy where the nurse sees it, with its source;
    a "not known" check says it is a check (the fast path leaves the person questions not known)."""
    from PySide6.QtWidgets import QLabel

    from ui.pages.incident_form.wording import esc

    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    form = keyboard_report(qtbot, window)
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    dialog = form.prompts
    checks = 0
    for row in dialog.rows.values():
        action = row.action
        shown = " ".join(label.text() for label in row.findChildren(QLabel) if label.isVisibleTo(dialog))
        assert action.basis in ("national", "local"), action.rule_id
        assert ("Deadline: national" if action.basis == "national"
                else "Deadline: local policy (a trust may change it)") in shown, action.rule_id
        assert f"Source: {esc(action.source)}" in shown and action.source, action.rule_id
        if action.check:
            checks += 1
            assert action.title.startswith("Confirm")
            assert f"<b>Check: {esc(action.title)}</b>" in shown and row.accessibleName() == f"Check: {action.title}"
        else:
            assert row.accessibleName() == action.title
    assert checks, "the fast path leaves questions not known, so some steps are checks"
    assert "police-wishes-ask" in {row.action.rule_id for row in dialog.rows.values() if row.action.check}
    controller.shutdown()



def test_a_window_that_closed_before_the_report_is_said_plainly_in_the_prompt(qtbot, make_store, tmp_path,
                                                                            monkeypatch):
    """Issue 12 E: an action whose window, counted from the incident, closed before the report is due at the
    report and says so in visible text, not only in a tooltip. (Every shipped rule counted from the incident is
    guarded by its window, so a trust's own rule is used here: 24 hours from the incident, reported 3 days on.)"""
    from datetime import timedelta

    from PySide6.QtWidgets import QLabel

    from core.clock import utcnow
    from core.dto import IncidentDraft, PersonDraft
    from ui.pages.incident_form.prompts import PromptsDialog

    override = tmp_path / "rules-local.toml"
    override.write_text(
        'version = 1\n\n[[rules]]\nid = "local-wellbeing-call"\ntitle = "Phone the person the next day"\n'
        'guidance = "Ask how they are."\nwhy = "Local policy."\nwhen = { always = true }\n'
        'deadline = { kind = "hours", n = 24, from = "occurred" }\nowner_role = "nurse"\n'
        'mandatory = false\nsource = "Synthetic trust policy for tests."\n', encoding="utf-8")
    monkeypatch.setenv("LANTERN_RULES_OVERRIDE", str(override))
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    draft = IncidentDraft(
        ward_id=wards["Oak Ward"], types=("SS-HAR-V",), occurred_at=utcnow() - timedelta(days=3), location="lounge",
        people=(PersonDraft("affected", "patient", "PT-1", harm_physical="none", harm_psychological="low"),
                PersonDraft("alleged_perpetrator", "patient", "PT-2")),
        description="Synthetic test incident.")
    detail = incidents.submit(store, nurse, incidents.create_draft(store, nurse, draft).incident_id)
    dialog = PromptsDialog(detail)
    qtbot.addWidget(dialog)
    dialog.show()
    call = next(row for row in dialog.rows.values() if row.action.rule_id == "local-wellbeing-call")
    shown = " ".join(label.text() for label in call.findChildren(QLabel) if label.isVisibleTo(dialog))
    assert "<b>The window closed at " in shown and ": record what was done.</b>" in shown
    assert "Deadline: local policy (a trust may change it)" in shown
    others = [row for row in dialog.rows.values() if row is not call]
    assert others and not any("window closed" in label.text() for row in others for label in row.findChildren(QLabel))
