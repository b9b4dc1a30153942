"""The main window (ui layer): tabs for the signed-in role, a status line, lock and sign-out."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.diagnostics import diagnostic_report
from core.errors import ServerUnreachable
from core.security.permissions import ROLE_LABELS, allowed
from core.services import queue
from ui.context import AppContext
from ui.pages import pages_for
from ui.session import describe_location
from ui.widgets.a11y import LiveLabel, announce

DAMAGE_TEXT = ("<b>Lantern found damage in this incident store, so it is read-only.</b> You can still read "
               "records, but nothing new can be saved until the store is restored. ")
DAMAGE_STAFF = ("If you need to report an incident now, use the paper form and tell your ward manager, and ask "
                "your administrator to restore the latest backup.")
DAMAGE_ADMIN = "Restore the latest backup into a new folder, then sign out and start Lantern again."


PREFERRED_SIZE = (1600, 900)
FRAME_ALLOWANCE = (16, 48)  # a window frame and title bar on Windows and common Linux desktops


class MainWindow(QMainWindow):
    lock_requested = Signal()
    sign_out_requested = Signal()
    quit_requested = Signal()

    def __init__(self, ctx: AppContext, store_label: str, banner: str = ""):
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"Lantern: {ctx.actor.username} ({ROLE_LABELS[ctx.actor.role]})")
        self.fit_screen()
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Lantern sections")
        for title, page in pages_for(ctx):
            self.tabs.addTab(page, title)
        self.damage_banner = self._damage_banner()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.damage_banner)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        ctx.damaged.connect(self.show_damage)
        status = describe_location(store_label)
        if banner:
            status = f"{banner}   |   {status}"
        self.status_label = LiveLabel("Status", status)
        self.statusBar().addWidget(self.status_label, 1)
        self.overdue_label = LiveLabel("Overdue actions")
        self.kept_label = LiveLabel("Reports kept on this PC")
        self.kept_label.hide()
        self.statusBar().addPermanentWidget(self.kept_label)
        self.statusBar().addPermanentWidget(self.overdue_label)
        if ctx.session.on_server:  # reports kept while the server was out of reach are sent from here
            from ui.outbox import KeptReports, ServerReach

            self.kept_reports = KeptReports(ctx, self.kept_label, self)
            self.server_label = LiveLabel("Incident server", urgent=True)  # a read that cannot reach it, said once
            self.server_label.setWordWrap(True)
            self.server_label.hide()
            self.statusBar().addWidget(self.server_label, 2)
            self.server_reach = ServerReach(ctx, self.server_label, self)
        self.overdue_timer = QTimer(self)
        self.overdue_timer.setInterval(60_000)
        self.overdue_timer.timeout.connect(self.refresh_overdue)
        self.overdue_timer.start()
        ctx.changed.connect(lambda _changes: self.refresh_overdue())
        ctx.remote_changed.connect(lambda _changes: self.refresh_overdue())
        self.refresh_overdue()

        menu = self.menuBar().addMenu("&Lantern")
        lock = QAction("&Lock now", self)
        lock.setShortcut(QKeySequence("Ctrl+L"))
        lock.triggered.connect(self.lock_requested.emit)
        menu.addAction(lock)
        self.addAction(lock)
        sign_out = QAction("&Sign out", self)
        sign_out.triggered.connect(lambda: self.confirm_leaving() and self.sign_out_requested.emit())
        menu.addAction(sign_out)
        self.quit_action = QAction("&Quit Lantern", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(lambda: self.confirm_leaving() and self.quit_requested.emit())
        menu.addAction(self.quit_action)
        self.addAction(self.quit_action)
        menu.addSeparator()
        self.report_action = QAction("Copy &diagnostic report (for IT)", self)
        self.report_action.triggered.connect(self.on_report_triggered)
        menu.addAction(self.report_action)

    def unsent_report(self) -> bool:
        from ui.pages.incident_form import IncidentFormPage

        form = self.page(IncidentFormPage)
        return form is not None and form.has_content()

    def confirm_leaving(self) -> bool:
        """Signing out or quitting with a report not sent asks first (its draft is kept, but it is not sent)."""
        if not self.unsent_report():
            return True
        box = QMessageBox(QMessageBox.Icon.Warning, "Report not sent",
                          "Your incident report has not been sent. Its draft is kept and comes back when you sign "
                          "in again, but nobody sees it until it is sent. Leave anyway?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.leaving_box = box
        return box.exec() == QMessageBox.StandardButton.Yes

    def fit_screen(self) -> None:
        """Up to 1600x900 where there is room; never more than the screen's free area less a title bar, so the status
        line with the overdue count is on screen at 1280x720, 1366x768 and at 200% (WCAG 1.4.10)."""
        free = self.screen().availableGeometry()
        self.resize(min(PREFERRED_SIZE[0], free.width() - FRAME_ALLOWANCE[0]),
                    min(PREFERRED_SIZE[1], free.height() - FRAME_ALLOWANCE[1]))
        self.move(free.x() + max(0, (free.width() - self.width()) // 2 - FRAME_ALLOWANCE[0] // 2), free.y())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        free, frame = self.screen().availableGeometry(), self.frameGeometry()
        if frame.height() > free.height() or frame.width() > free.width():  # a taller title bar than allowed for
            self.resize(self.width() - max(0, frame.width() - free.width()),
                        self.height() - max(0, frame.height() - free.height()))
            self.move(free.topLeft())

    def _damage_banner(self) -> QWidget:
        banner = QWidget()
        banner.setObjectName("damage")
        row = QHBoxLayout(banner)
        self.damage_text = LiveLabel("Store damaged: read-only", urgent=True)
        self.damage_text.set_quietly(DAMAGE_TEXT + (DAMAGE_ADMIN if allowed(self.ctx.actor, "backup.run") else
                                                    DAMAGE_STAFF))
        self.damage_text.setWordWrap(True)
        row.addWidget(self.damage_text, 1)
        self.restore_button = QPushButton("&Restore a backup…")
        self.restore_button.clicked.connect(self.on_restore_clicked)
        # A trust's server is restored by IT, not from this PC.
        self.restore_button.setVisible(allowed(self.ctx.actor, "backup.run") and not self.ctx.session.on_server)
        row.addWidget(self.restore_button)
        banner.hide()
        return banner

    def show_damage(self) -> None:
        """Damage was found (start-up check, a read, or a full check): say so on every screen, for good."""
        if self.damage_banner.isHidden():
            self.damage_banner.show()
            announce(self.damage_text, self.damage_text.text(), urgent=True)
            self.status_label.setText("READ-ONLY: damage found in the store   |   " + self.status_label.text())
            if self.restore_button.isVisible():
                self.restore_button.setFocus()

    def on_restore_clicked(self) -> None:
        from ui.pages.admin import AdminPage

        admin = self.page(AdminPage)
        if admin is not None:
            self.tabs.setCurrentWidget(admin)
            admin.on_restore_clicked()

    def on_report_triggered(self) -> None:
        """Versions, settings and the store's set-up on the clipboard: never incident data or keys."""
        self.ctx.call(lambda store, _actor: diagnostic_report(store), self._report_ready,
                      parent=self)

    def _report_ready(self, text: str) -> None:
        QApplication.clipboard().setText(text)
        message = ("Diagnostic report copied: versions and settings only, no incident data. Paste it into your "
                   "message to IT.")
        self.statusBar().showMessage(message, 20000)
        announce(self.statusBar(), message)

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

        # Quiet on failure (it comes again in a minute), but a server out of reach is said in the status line.
        self.ctx.call(queue.overdue_count, show, parent=self, read=True,
                      on_error=lambda err: self.ctx.read_failed(self, err) if isinstance(err, ServerUnreachable) else None)

    def set_overdue(self, count: int) -> None:
        self.overdue_label.setText(f"Overdue actions: {count}" if count else "No overdue actions")
