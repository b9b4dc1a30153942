"""What a screen reader reads and hears (WCAG 2.2: 4.1.2 name, role, value; 4.1.3 status messages; 3.3.1 error
identification), checked through Qt's own accessibility interface on real screens and a real encrypted store.

A label with a fixed accessible name is read by that name alone, so Orca said "Problem with the time" and never
the problem. Every visible label must be read with its current words, and a change must raise the announcement
event a screen reader speaks. PySide6 has no update handler to hook, so the tests wrap
`QAccessible.updateAccessibility` (the one call every announcement goes through) and record what it was given.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QLabel, QWidget

from tests.ui.manager_helpers import WAIT, seed
from tests.ui.nurse_helpers import form_of, press, sign_in
from ui.app import AppController
from ui.dialogs.signin import SignInDialog
from ui.widgets.a11y import plain

NAME, DESCRIPTION = QAccessible.Text.Name, QAccessible.Text.Description


def heard(widget: QWidget) -> str:
    """What a screen reader reads for `widget`: its accessible name, then its description."""
    iface = QAccessible.queryAccessibleInterface(widget)
    return " ".join(f"{iface.text(NAME)} {iface.text(DESCRIPTION)}".replace("&", "").split())


def unread_labels(root: QWidget) -> list[str]:
    """The visible labels under `root` whose words a screen reader does not get."""
    missed = []
    for label in root.findChildren(QLabel):
        words = plain(label.text()).replace("&", "")
        if words and label.isVisibleTo(root) and words not in heard(label):
            missed.append(f"{words[:60]!r} is read as {heard(label)[:60]!r}")
    return missed


def messages(said) -> list[str]:
    return [message for _widget, message, _urgent in said]


# ----- what is read ------------------------------------------------------------------------------

def test_every_label_on_every_form_step_is_read_with_its_current_words(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    qtbot.waitUntil(lambda: form.when.ward.count() > 0, timeout=WAIT)
    form.when.time.setText("9x")
    form.submit()  # every step now shows its problems
    missed = {}
    for index in range(len(form.steps)):
        form.go(index)
        missed.update({f"step {index + 1}: {m}": 1 for m in unread_labels(window)})
    assert form.when.errors["occurred_at"].text().startswith("Needed: Type the time")
    assert list(missed) == []


def test_the_time_problem_is_read_as_the_problem_itself(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.go(1)
    form.when.time.setText("9x")
    form.go(2)
    form.go(1)
    label = form.when.errors["occurred_at"]
    assert label.isVisible()
    assert heard(label).startswith("Needed: Type the time as hours and minutes, for example 21:40.")
    assert "Problem with the time" in heard(label)  # what it is about, as its description


def test_every_label_on_the_managers_screens_is_read(qtbot, make_store, password):
    from ui.pages.dashboard import DashboardPage
    from ui.pages.review import ReviewPage

    store, actors, _recovery, wards = make_store("manager-store")
    seed(store, actors, wards)
    folder = store.folder
    store.close()
    controller = AppController(folder)
    window = sign_in(qtbot, controller, "manager", password)
    try:
        qtbot.waitUntil(lambda: window.overdue_label.text() != "", timeout=WAIT)
        missed = []
        for i in range(window.tabs.count()):
            window.tabs.setCurrentIndex(i)
            page = window.tabs.currentWidget()
            if isinstance(page, ReviewPage):
                qtbot.waitUntil(lambda p=page: p.list_model.rowCount() > 0, timeout=WAIT)
                page.open_incident(page.list_model.rows[0].incident_id)
                qtbot.waitUntil(lambda p=page: p.detail is not None, timeout=WAIT)
            if isinstance(page, DashboardPage):
                qtbot.waitUntil(lambda p=page: p.board is not None, timeout=WAIT)
            controller.runner.wait()
            qtbot.wait(50)
            missed += [f"{window.tabs.tabText(i)}: {m}" for m in unread_labels(window)]
        assert missed == []
        assert heard(window.overdue_label).startswith(window.overdue_label.text())
    finally:
        controller.shutdown()


def test_every_label_on_the_administration_page_is_read(qtbot, make_store, password):
    from ui.pages.admin import AdminPage

    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "admin", password)
    try:
        page = window.page(AdminPage)
        window.tabs.setCurrentWidget(page)
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
        page.message.setText("Select an account in the table first.")
        assert unread_labels(window) == []
    finally:
        controller.shutdown()


# ----- what is announced ---------------------------------------------------------------------------

def test_a_time_problem_is_announced_when_it_appears_and_when_its_step_opens(nurse_window, qtbot, announcements):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.submit()
    assert "The report cannot be sent yet: complete the items listed above." in messages(announcements)
    form.go(1)
    announcements.clear()
    form.when.time.setFocus()
    qtbot.keyClicks(form.when.time, "9x")
    assert any(m.startswith("Needed: Type the time as hours and minutes") for m in messages(announcements))
    form.go(2)
    announcements.clear()
    press(qtbot, Qt.Key.Key_PageUp)  # back to When and where, by keyboard
    assert form.stack.currentWidget() is form.when
    spoken = messages(announcements)
    assert spoken and spoken[-1].startswith("Step 2 of 6: When and where.") and "Type the time" in spoken[-1]


def test_an_unchanged_message_is_not_announced_again(nurse_window, qtbot, announcements):
    _controller, window, _actors, _wards = nurse_window
    form = form_of(window)
    form.submit()
    form.go(1)
    form.when.time.setFocus()
    qtbot.keyClicks(form.when.time, "9x")
    qtbot.keyClicks(form.when.time, "y")  # still wrong: the same message stays, and is not repeated
    assert sum(m.startswith("Needed: Type the time") for m in messages(announcements)) == 1


def test_a_refused_sign_in_is_announced_at_once(qtbot, make_store, announcements):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    dialog = controller.show_sign_in("nurse")
    qtbot.waitExposed(dialog)
    dialog.password.setFocus()
    qtbot.keyClicks(dialog.password, "not the password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.password.isEnabled() and "Checking" not in dialog.message.text(), timeout=WAIT)
    said = [(m, urgent) for w, m, urgent in announcements if w is dialog.message]
    assert said[-1] == (plain(dialog.message.text()), True)
    assert heard(dialog.message).startswith(plain(dialog.message.text()))
    dialog.rejected.disconnect()
    dialog.reject()


def test_the_overdue_count_and_the_damage_banner_are_announced(nurse_window, qtbot, announcements):
    _controller, window, _actors, _wards = nurse_window
    window.set_overdue(3)
    assert ("Overdue actions: 3" in messages(announcements)) and heard(window.overdue_label).startswith(
        "Overdue actions: 3")
    window.show_damage()
    assert any(urgent and m.startswith("Lantern found damage") for _w, m, urgent in announcements)


def test_the_reference_in_the_prompts_is_read_as_the_reference(nurse_window, qtbot):
    from tests.ui.nurse_helpers import keyboard_report

    _controller, window, _actors, _wards = nurse_window
    form = keyboard_report(qtbot, window)
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    reference = form.prompts.detail.reference
    assert heard(form.prompts.reference).startswith(reference)
    assert unread_labels(form.prompts) == []
    form.prompts.accept()


def test_sign_in_dialog_labels_are_read(qtbot):
    dialog = SignInDialog("/tmp/store")
    qtbot.addWidget(dialog)
    dialog.show_problem("That username and password do not match.")
    assert unread_labels(dialog) == []


# ----- tables: Tab leaves, arrows move inside (WCAG 2.1.1 keyboard, 2.4.3 focus order) ------------------------

def tab_leaves(qtbot, table) -> list[str]:
    """Tab and Shift+Tab take the focus out of `table` and leave its selected row alone; Down moves inside."""
    name = table.accessibleName()
    problems = [] if not table.tabKeyNavigation() else [f"{name}: Tab moves from cell to cell"]
    rows = table.model().rowCount()
    if rows < 2:
        return problems
    table.setFocus()
    table.selectRow(1)
    for key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
        table.setFocus()
        qtbot.keyClick(table, key)
        if table.hasFocus():
            problems.append(f"{name}: {key.name} stays in the table")
        if table.currentIndex().row() != 1:
            problems.append(f"{name}: {key.name} moved the selected row to {table.currentIndex().row()}")
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Down)
    if table.currentIndex().row() != 2 and rows > 2:
        problems.append(f"{name}: Down did not move to the next row")
    return problems


def visible_tables(window):
    from PySide6.QtWidgets import QTableView

    return [t for t in window.findChildren(QTableView) if t.isVisibleTo(window)]


def test_tab_leaves_every_table_of_the_managers_screens(qtbot, make_store, password):
    from ui.pages.action_queue import ActionQueuePage
    from ui.pages.dashboard import DashboardPage
    from ui.pages.review import ReviewPage

    store, actors, _recovery, wards = make_store()
    seed(store, actors, wards)
    seed(store, actors, wards)
    folder = store.folder
    store.close()
    controller = AppController(folder)
    window = sign_in(qtbot, controller, "manager", password)
    try:
        problems, seen = [], set()
        queue_page = window.page(ActionQueuePage)
        window.tabs.setCurrentWidget(queue_page)
        qtbot.waitUntil(lambda: queue_page.model.rowCount() > 2, timeout=WAIT)
        review = window.page(ReviewPage)
        window.tabs.setCurrentWidget(review)
        qtbot.waitUntil(lambda: review.list_model.rowCount() > 2, timeout=WAIT)
        review.open_incident(review.list_model.rows[0].incident_id)
        qtbot.waitUntil(lambda: review.detail is not None and review.actions_model.rowCount() > 2, timeout=WAIT)
        dashboard = window.page(DashboardPage)
        for page, tabs in ((queue_page, [None]), (review, range(review.tabs.count())), (dashboard, [None])):
            window.tabs.setCurrentWidget(page)
            for index in tabs:
                if index is not None:
                    review.tabs.setCurrentIndex(index)
                if page is dashboard:
                    qtbot.waitUntil(lambda: dashboard.board is not None, timeout=WAIT)
                controller.runner.wait()
                for table in visible_tables(window):
                    if table not in seen:
                        seen.add(table)
                        problems += tab_leaves(qtbot, table)
        assert len(seen) >= 12  # queue; review list, actions, versions, history; 7 dashboard charts, repeats
        assert problems == []
    finally:
        controller.shutdown()


def test_tab_leaves_the_accounts_table_and_my_incidents(qtbot, make_store, password):
    from ui.pages.admin import AdminPage
    from ui.pages.my_incidents import MyIncidentsPage

    store, actors, _recovery, wards = make_store()
    seed(store, actors, wards)
    folder = store.folder
    store.close()
    for username, page_class in (("admin", AdminPage), ("nurse", MyIncidentsPage)):
        controller = AppController(folder)
        window = sign_in(qtbot, controller, username, password)
        try:
            page = window.page(page_class)
            window.tabs.setCurrentWidget(page)
            qtbot.waitUntil(lambda p=page: p.table.model().rowCount() > 2, timeout=WAIT)
            assert tab_leaves(qtbot, page.table) == []
        finally:
            controller.shutdown()


# ----- the safeguarding prompts: every step reachable and read (issue 11 item 5) ---------------------------

def test_every_prompt_step_is_reached_by_tab_and_read_with_its_guidance(qtbot, make_store):
    """A staff allegation (sexual assault) gives many steps, LADO and police among them; only 'Do now' rows took
    the focus, and the how-to text lived only in tooltips."""
    from PySide6.QtWidgets import QApplication

    from tests.core.manager_helpers import report
    from ui.pages.incident_form.prompts import PromptsDialog

    store, actors, _recovery, wards = make_store()
    detail = report(store, actors["nurse"], wards["Oak Ward"], perpetrator="staff", types=("SS-SA",),
                    flags=("physical_contact",))
    dialog = PromptsDialog(detail)
    qtbot.addWidget(dialog)
    dialog.resize(1000, 600)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=WAIT)
    rows = list(dialog.rows.values())
    assert len(rows) >= 10 and any("LADO" in r.heading or "LADO" in heard(r) for r in rows)
    reached = []
    for _ in range(4 * len(rows) + 10):
        widget = QApplication.focusWidget()
        reached.append(widget)
        viewport = dialog.scroll.viewport()
        if dialog.scroll.widget().isAncestorOf(widget):
            centre = widget.mapTo(viewport, widget.rect().center())
            assert viewport.rect().contains(centre), f"{widget.accessibleName()!r} has the focus out of sight"
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    unreached = [r.heading for r in rows if r not in reached]
    assert unreached == []
    for row in rows:
        action = row.action
        said = heard(row)
        assert said.startswith(row.heading)
        assert "Who:" in said and (not action.why or plain(action.why) in said)
        if action.guidance:
            assert row.how.isVisibleTo(dialog) and "How:" in said
    store.close()
