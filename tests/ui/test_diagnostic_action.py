"""The main window's "Copy diagnostic report" action puts a data-free report on the clipboard."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from ui.context import AppContext
from ui.main_window import MainWindow
from ui.session import Session
from ui.tasks import TaskRunner


def test_copy_diagnostic_report(make_store, qtbot):
    store, actors, _recovery, _wards = make_store()
    runner = TaskRunner()
    ctx = AppContext(Session(store.folder, store, actors["admin"]), runner)
    window = MainWindow(ctx, str(store.folder))
    qtbot.addWidget(window)
    QApplication.clipboard().setText("")
    window.report_action.trigger()
    qtbot.waitUntil(lambda: QApplication.clipboard().text().startswith("Lantern diagnostic report"), timeout=10000)
    text = QApplication.clipboard().text()
    assert f"folder: {store.folder}" in text and "schema revision in the store:" in text
    assert store.key.hex() not in text
    assert "Diagnostic report copied" in window.statusBar().currentMessage()
    runner.wait()
