"""Alt+letter shortcuts (mnemonics): one letter, one target, in every window as each role sees it (issue 11 item 9).

Walks every tab of the main window for each role (and the review's inner tabs, every step of the report form),
the safeguarding prompts and the sign-in window, and fails on a letter used twice among what is on show: tabs,
the menu bar, buttons, check boxes and labels that lead to a field. A letter that reaches a field scrolled out of
view counts as on show, because Alt+letter reaches it all the same.
"""

from __future__ import annotations

import re
from collections import defaultdict

from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QMenuBar, QTabBar, QWidget

from tests.ui.manager_helpers import WAIT, seed
from tests.ui.nurse_helpers import form_of, keyboard_report, sign_in
from ui.app import AppController
from ui.dialogs.signin import SignInDialog


def letter(text: str) -> str | None:
    match = re.search(r"&([^&\s])", text.replace("&&", ""))
    return match.group(1).lower() if match else None


def _on_show(widget: QWidget, window: QWidget) -> bool:
    """On show, or in a scroll area's page that is (Alt+letter reaches a field scrolled out of view too)."""
    return widget.isVisibleTo(window)


def targets(window: QWidget) -> dict[str, list[str]]:
    """Each mnemonic letter on show in `window`, with what it leads to."""
    found: dict[str, list[str]] = defaultdict(list)

    def add(text: str, what: str) -> None:
        key = letter(text)
        if key:
            found[key].append(f"{what} {text.replace('&', '')!r}")

    for widget in window.findChildren(QWidget):
        if not _on_show(widget, window):
            continue
        if isinstance(widget, QTabBar):
            for i in range(widget.count()):
                if widget.isTabVisible(i):
                    add(widget.tabText(i), "tab")
        elif isinstance(widget, QMenuBar):
            for action in widget.actions():
                add(action.text(), "menu")
        elif isinstance(widget, QAbstractButton) and not widget.objectName().startswith("qt_"):
            add(widget.text(), "button")
        elif isinstance(widget, QLabel) and widget.buddy() is not None:
            add(widget.text(), "label")
        elif isinstance(widget, QGroupBox) and widget.isCheckable():
            add(widget.title(), "group")
    return found


def clashes(window: QWidget, where: str) -> list[str]:
    return [f"{where}: Alt+{key.upper()} is " + " and ".join(uses)
            for key, uses in targets(window).items() if len(uses) > 1]


def walk(qtbot, controller, window) -> list[str]:
    """Every tab of the main window, every inner tab of a page, every step of the report form."""
    from ui.pages.incident_form import IncidentFormPage
    from ui.pages.review import ReviewPage

    found = []
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        page = window.tabs.currentWidget()
        name = window.tabs.tabText(i).replace("&", "")
        controller.runner.wait()
        if isinstance(page, IncidentFormPage):
            for step in range(len(page.steps)):
                page.go(step, focus=False)
                found += clashes(window, f"{name}, step {step + 1}")
        elif isinstance(page, ReviewPage):
            qtbot.waitUntil(lambda p=page: p.list_model.rowCount() > 0, timeout=WAIT)
            page.open_incident(page.list_model.rows[0].incident_id)
            qtbot.waitUntil(lambda p=page: p.detail is not None, timeout=WAIT)
            for inner in range(page.tabs.count()):
                page.tabs.setCurrentIndex(inner)
                found += clashes(window, f"{name}, {page.tabs.tabText(inner).replace('&', '')}")
        else:
            found += clashes(window, name)
    return found


def test_no_letter_twice_on_any_screen_of_any_role(qtbot, make_store, password):
    store, actors, _recovery, wards = make_store()
    seed(store, actors, wards)
    folder = store.folder
    store.close()
    problems = []
    for username in ("nurse", "manager", "lead", "admin"):
        controller = AppController(folder)
        window = sign_in(qtbot, controller, username, password)
        try:
            problems += [f"{username}, {p}" for p in walk(qtbot, controller, window)]
        finally:
            controller.shutdown()
    assert problems == [], "\n".join(problems)


def test_no_letter_twice_in_the_prompts(nurse_window, qtbot):
    _controller, window, _actors, _wards = nurse_window
    form = keyboard_report(qtbot, window)
    qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
    assert clashes(form.prompts, "prompts") == []
    form.prompts.accept()


def test_alt_c_brings_the_account_field_into_view_and_is_used_once(nurse_window, qtbot):
    """Alt+C (their Lantern account) reached a field scrolled out of view: now the field scrolls to it."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QApplication

    _controller, window, _actors, _wards = nurse_window
    window.resize(1280, 650)
    form = form_of(window)
    form.go(2)
    perpetrator = form.people.editors[1]
    perpetrator.person_type.setCurrentIndex(perpetrator.person_type.findData("staff"))
    for _ in range(3):
        form.people.add_person("witness")
    qtbot.wait(50)  # a widget added to a shown layout is shown on the next turn of the event loop
    form.people.scroll.verticalScrollBar().setValue(form.people.scroll.verticalScrollBar().maximum())
    assert clashes(window, "Who was involved, five people") == []
    form.people.editors[-1].ref.setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is perpetrator.account
    viewport = form.people.scroll.viewport()
    top_left = perpetrator.account.mapTo(viewport, QPoint(0, 0))
    assert viewport.rect().contains(top_left)


def test_no_letter_twice_in_the_sign_in_window(qtbot):
    dialog = SignInDialog("/tmp/store")
    qtbot.addWidget(dialog)
    assert clashes(dialog, "sign-in") == []
