"""The home page (ui layer): who is signed in, on which store, and what to do next."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.security.permissions import ROLE_LABELS
from ui.context import AppContext


class HomePage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        actor = ctx.actor
        heading = QLabel(f"<h2>Signed in as {actor.username} ({ROLE_LABELS[actor.role]})</h2>")
        heading.setAccessibleName("Signed in as")
        layout.addWidget(heading)
        info = QLabel(
            "Use the tabs above. Press <b>Ctrl+N</b> to report an incident, <b>Ctrl+L</b> to lock Lantern when "
            "you leave the computer. Lantern also locks itself after a few minutes without use; nothing you "
            "have typed is lost."
        )
        info.setWordWrap(True)
        layout.addWidget(info)
        layout.addStretch(1)
