"""The safeguarding lead's requests for access (ui layer): approve or refuse an administrator's grant of a role
that reads incident content, or reset of such an account's password (separation of duties, issue 13 item 1)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from core.clock import from_db
from core.dto import AccessRequestInfo
from core.security.permissions import ROLE_LABELS
from core.services import accounts
from ui.context import AppContext
from ui.models.manager import when
from ui.widgets.a11y import LiveLabel

KIND_TEXT = {"grant_role": "a new account as", "raise_role": "a change of role to",
             "reset_password": "a password reset, as"}


def describe(request: AccessRequestInfo) -> str:
    """Who asked, for whom, which role, when: what the approver needs to judge it."""
    who = f"{request.username} ({request.display_name})" if request.display_name else request.username
    return (f"{who}: {KIND_TEXT.get(request.kind, request.kind)} {ROLE_LABELS[request.role]}, asked by "
            f"{request.requested_by} on {when(from_db(request.requested_at))}")


class AccessRequestsBox(QGroupBox):
    """Pending requests with Approve and Refuse. Neither button is a default; approving shows the account's
    temporary password here, once, for the lead to pass on privately."""

    def __init__(self, ctx: AppContext):
        super().__init__("Requests for access waiting for you")
        self.ctx = ctx
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setAccessibleName("Requests for access")
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.approve_button = QPushButton("A&pprove…")
        self.refuse_button = QPushButton("Re&fuse…")
        for button in (self.approve_button, self.refuse_button):
            button.setAutoDefault(False)
            button.setEnabled(False)  # until the requests have loaded
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.message = LiveLabel("Requests for access message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.refuse_button.clicked.connect(lambda: self.decide(False))
        self.refresh()

    def refresh(self) -> None:
        self.ctx.call(accounts.list_access_requests, self._loaded, parent=self, read=True)

    def _loaded(self, requests: list[AccessRequestInfo]) -> None:
        self.list.clear()
        for request in requests:
            item = QListWidgetItem(describe(request))
            item.setData(Qt.ItemDataRole.UserRole, request)
            self.list.addItem(item)
        if not requests:
            self.list.addItem("No requests are waiting.")
        self.approve_button.setEnabled(bool(requests))
        self.refuse_button.setEnabled(bool(requests))

    def decide(self, approve: bool) -> None:
        item = self.list.currentItem()
        request = item.data(Qt.ItemDataRole.UserRole) if item else None
        if request is None:
            self.message.setText("Select a request in the list first.")
            return
        verb = "Approve" if approve else "Refuse"
        answer = QMessageBox.question(self, f"{verb} the request", f"{verb} {describe(request)}?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.call(lambda store, actor: accounts.decide_access_request(store, actor, request.request_id, approve),
                      lambda temp: self._decided(request, temp), parent=self)

    def _decided(self, request: AccessRequestInfo, temp: str | None) -> None:
        if temp:
            self.message.setText(f"Approved. Temporary password for {request.username}: {temp}  (give it to them "
                                 "privately; it is shown only now, and they must change it when they first sign in).")
        else:
            self.message.setText(f"Refused: {request.username} gets no new access.")
        self.refresh()


__all__ = ["AccessRequestsBox", "describe"]
