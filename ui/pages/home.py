"""The home page (ui layer): who is signed in, and the one thing a nurse most often needs, one press away."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from core.security.permissions import ROLE_LABELS, allowed
from ui import style
from ui.context import AppContext


class HomePage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        actor = ctx.actor
        heading = QLabel(f"<h2>Signed in as {actor.username} ({ROLE_LABELS[actor.role]})</h2>")
        layout.addWidget(heading)
        self.report_button = None
        if allowed(actor, "incident.create"):
            self.report_button = QPushButton("Report an incident   (Ctrl+N)")
            self.report_button.setAccessibleName("Report an incident")
            self.report_button.setMinimumHeight(48)
            self.report_button.setStyleSheet(style.sheet("report-button"))
            self.report_button.clicked.connect(self.on_report_clicked)
            layout.addWidget(self.report_button)
        report = "Press <b>Ctrl+N</b> to report an incident, " if self.report_button else "Press "
        info = QLabel(
            f"Use the tabs above. {report}<b>Ctrl+L</b> to lock Lantern when you leave the computer. Lantern also "
            "locks itself after a few minutes without use; nothing you have typed is lost."
        )
        self.info = info
        info.setWordWrap(True)
        layout.addWidget(info)
        self.access_requests = None
        if allowed(actor, "access.approve"):  # the safeguarding lead approves content access (separation of duties)
            from ui.pages.access_requests import AccessRequestsBox

            self.access_requests = AccessRequestsBox(ctx)
            layout.addWidget(self.access_requests)
        layout.addStretch(1)

    def on_report_clicked(self) -> None:
        """Open the report form, as Ctrl+N does."""
        from ui.pages.incident_form import IncidentFormPage

        window = self.window()
        form = window.page(IncidentFormPage) if hasattr(window, "page") else None
        if form is not None:
            form.start_new()
