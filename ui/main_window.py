"""The main window (ui layer): tabs for the signed-in role, a status line, lock and sign-out."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget
from shiboken6 import isValid

from core.diagnostics import diagnostic_report
from core.security.permissions import ROLE_LABELS, allowed
from core.services import queue
from ui.context import AppContext
from ui.pages import pages_for


class MainWindow(QMainWindow):
    lock_requested = Signal()
    sign_out_requested = Signal()

    def __init__(self, ctx: AppContext, store_label: str, banner: str = ""):
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"Lantern: {ctx.actor.username} ({ROLE_LABELS[ctx.actor.role]})")
        self.resize(1100, 760)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Lantern sections")
        for title, page in pages_for(ctx):
            self.tabs.addTab(page, title)
        self.setCentralWidget(self.tabs)
        status = f"Store: {store_label}"
        if banner:
            status = f"{banner}   |   {status}"
        self.status_label = QLabel(status)
        self.status_label.setAccessibleName("Status")
        self.statusBar().addWidget(self.status_label, 1)
        self.overdue_label = QLabel("")
        self.overdue_label.setAccessibleName("Overdue actions")
        self.statusBar().addPermanentWidget(self.overdue_label)
        self.overdue_timer = QTimer(self)
        self.overdue_timer.setInterval(60_000)
        self.overdue_timer.timeout.connect(self.refresh_overdue)
        self.overdue_timer.start()
        ctx.changed.connect(lambda _changes: self.refresh_overdue())
        self.refresh_overdue()

        menu = self.menuBar().addMenu("&Lantern")
        lock = QAction("&Lock now", self)
        lock.setShortcut(QKeySequence("Ctrl+L"))
        lock.triggered.connect(self.lock_requested.emit)
        menu.addAction(lock)
        self.addAction(lock)
        sign_out = QAction("&Sign out", self)
        sign_out.triggered.connect(self.sign_out_requested.emit)
        menu.addAction(sign_out)
        menu.addSeparator()
        self.report_action = QAction("Copy &diagnostic report (for IT)", self)
        self.report_action.triggered.connect(self.on_report_triggered)
        menu.addAction(self.report_action)

    def on_report_triggered(self) -> None:
        """Versions, settings and the store's set-up on the clipboard: never incident data or keys."""
        self.ctx.call(lambda store, _actor: diagnostic_report(store), self._report_ready, parent=self)

    def _report_ready(self, text: str) -> None:
        QApplication.clipboard().setText(text)
        self.statusBar().showMessage("Diagnostic report copied: versions and settings only, no incident data. "
                                     "Paste it into your message to IT.", 20000)

    def page(self, cls):
        """The first tab that is an instance of `cls` (tests and shortcuts use this)."""
        for i in range(self.tabs.count()):
            if isinstance(self.tabs.widget(i), cls):
                return self.tabs.widget(i)
        return None

    def refresh_overdue(self) -> None:
        """Ask core for the overdue count (on sign-in, after any change, and every minute)."""
        if not allowed(self.ctx.actor, "action.update"):
            return

        def show(count):
            if isValid(self):
                self.set_overdue(count)

        self.ctx.call(queue.overdue_count, show, on_error=lambda _err: None, parent=self)

    def set_overdue(self, count: int) -> None:
        self.overdue_label.setText(f"Overdue actions: {count}" if count else "No overdue actions")
