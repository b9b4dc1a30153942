"""Fixtures shared by the UI tests (real encrypted stores, synthetic data only)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QWidget

from tests.ui.nurse_helpers import form_of, sign_in
from ui.app import AppController


@pytest.fixture
def nurse_window(qtbot, make_store, password):
    """The nurse signed in through the real sign-in window, on the report form: (controller, window, actors,
    wards). The app is shut down afterwards."""
    store, actors, _recovery, wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    window.tabs.setCurrentWidget(form_of(window))
    yield controller, window, actors, wards
    controller.shutdown()


@pytest.fixture
def announcements(monkeypatch):
    """Every announcement asked of assistive technology: (widget, message, assertive?)."""
    said: list[tuple[QWidget, str, bool]] = []
    real = QAccessible.updateAccessibility

    def spy(event):
        if event.type() == QAccessible.Event.Announcement:
            said.append((event.object(), event.message(),
                         event.politeness() == QAccessible.AnnouncementPoliteness.Assertive))
        real(event)

    monkeypatch.setattr(QAccessible, "updateAccessibility", staticmethod(spy))
    return said
