"""Helpers for the manager-screen tests: a real encrypted store with submitted incidents, a context per account,
and answering the next dialog with the keyboard. Synthetic data only."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from tests.core.manager_helpers import report
from ui.context import AppContext
from ui.session import Session
from ui.tasks import TaskRunner

WAIT = 15000


class Contexts:
    """Builds an AppContext for any test account on one open store; waits for the lane at teardown."""

    def __init__(self, store, actors):
        self.store, self.actors, self.runners = store, actors, []

    def __call__(self, username: str) -> AppContext:
        runner = TaskRunner()
        self.runners.append(runner)
        return AppContext(Session(self.store.folder, self.store, self.actors[username]), runner)

    def finish(self) -> None:
        for runner in self.runners:
            runner.wait()


def seed(store, actors, wards):
    """Two ordinary Oak Ward incidents (one an assault graded low harm) and one restricted staff allegation."""
    oak = wards["Oak Ward"]
    assault = report(store, actors["nurse"], oak, types=("SS-SA",), flags=("physical_contact",), local_ref="P-7")
    verbal = report(store, actors["nurse"], oak, types=("SS-HAR-V",), local_ref="P-7")
    restricted = report(store, actors["nurse"], oak, perpetrator="staff", linked_user_id=actors["nurse2"].user_id,
                        types=("SS-SA",), flags=("physical_contact",), local_ref="S-1")
    return assault, verbal, restricted


def modal(qtbot, cls=QDialog, timeout: int = WAIT):
    """Wait for the next modal dialog of `cls` and return it."""
    found = []

    def check():
        widget = QApplication.activeModalWidget()
        if isinstance(widget, cls) and widget.isVisible():
            found.append(widget)
            return True
        return False

    qtbot.waitUntil(check, timeout=timeout)
    return found[0]


def press_later(key=Qt.Key.Key_Return, cls=QDialog) -> list[str]:
    """Answer a blocking dialog (a message box run with exec) with one key, as soon as it appears.
    Returns a list that receives the dialog's text, so the test can check what it said."""
    seen: list[str] = []

    def attempt():
        widget = QApplication.activeModalWidget()
        if isinstance(widget, cls) and widget.isVisible():
            from PySide6.QtTest import QTest

            seen.append(widget.text() if hasattr(widget, "text") else widget.windowTitle())
            QTest.keyClick(widget, key)
        else:
            QTimer.singleShot(50, attempt)

    QTimer.singleShot(50, attempt)
    return seen
