"""Issue 11, items 16 and 17: a database-lane failure never makes a widget with a deleted parent, after the
session has closed, or on a worker thread, and Lantern quits cleanly while start-up work is still on the lane.
Real encrypted stores, synthetic data only."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from shiboken6 import isValid

from core.errors import ValidationError
from ui.context import AppContext
from ui.errors import install_excepthook
from ui.session import Session
from ui.tasks import TaskRunner

WAIT = 15000


def _context(make_store, username="nurse"):
    store, actors, _recovery, _wards = make_store()
    runner = TaskRunner()
    return AppContext(Session(store.folder, store, actors[username]), runner), runner, store


def _failing_job(release: threading.Event):
    def job(_store, _actor):
        release.wait(WAIT / 1000)
        raise ValidationError("Synthetic failure.")

    return job


@pytest.fixture
def boxes():
    """Every message box that opens is recorded and closed, so a wrong one fails the test instead of hanging it."""
    seen: list[str] = []

    def close_any():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                seen.append(widget.text())
                widget.done(0)

    timer = QTimer()
    timer.timeout.connect(close_any)
    timer.start(20)
    yield seen
    timer.stop()


def test_a_failure_after_its_page_was_deleted_shows_nothing_and_raises_nothing(qtbot, make_store, boxes):
    ctx, runner, _store = _context(make_store)
    page = QWidget()
    release = threading.Event()
    ctx.call(_failing_job(release), parent=page)
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    assert not isValid(page)
    release.set()
    qtbot.waitUntil(lambda: not runner._live, timeout=WAIT)  # before: RuntimeError, C++ object already deleted
    qtbot.wait(100)
    assert boxes == []


def test_a_failure_after_the_session_closed_shows_nothing(qtbot, make_store, boxes):
    ctx, runner, store = _context(make_store)
    page = QWidget()
    qtbot.addWidget(page)
    release = threading.Event()
    ctx.call(_failing_job(release), parent=page)
    ctx.session.store = None  # signed out (the window is hidden; the sign-in window is up)
    release.set()
    qtbot.waitUntil(lambda: not runner._live, timeout=WAIT)
    qtbot.wait(100)
    assert boxes == []


def test_the_error_hook_makes_no_widget_on_a_worker_thread(qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook()
    before = set(map(id, QApplication.topLevelWidgets()))

    def worker():
        try:
            raise RuntimeError("synthetic")
        except RuntimeError as err:
            sys.excepthook(type(err), err, err.__traceback__)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()  # before: a modal message box ran on the worker thread and never returned
    qtbot.wait(50)
    assert not [w for w in QApplication.topLevelWidgets() if id(w) not in before and isinstance(w, QMessageBox)]
