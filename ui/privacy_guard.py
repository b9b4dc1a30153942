"""The privacy guard on free-text boxes (ui layer): a calm warning under the box, never a block."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit

from core.privacy import find_pid, warning_for

DELAY_MS = 400  # check after a short pause in typing, not on every key


class PrivacyGuard(QObject):
    """Watches `edit`; shows core.privacy's warning in `label` (hidden when the text looks clean)."""

    def __init__(self, edit: QPlainTextEdit, label: QLabel):
        super().__init__(edit)
        self.edit, self.label = edit, label
        label.setObjectName("privacy")
        label.setWordWrap(True)
        label.setAccessibleDescription(f"Privacy warning for {edit.accessibleName() or 'this box'}")
        label.hide()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self.check_now)
        edit.textChanged.connect(self.timer.start)

    @property
    def warning(self) -> str:
        return self.label.text() if self.label.isVisibleTo(self.label.parentWidget()) else ""

    def check_now(self) -> None:
        self.timer.stop()
        message = warning_for(find_pid(self.edit.toPlainText()))
        if message:
            self.label.show()  # before the text, so a LiveLabel announces it
        self.label.setText(f"Privacy check: {message}" if message else "")
        self.label.setVisible(bool(message))
        # Screen readers hear the warning as part of the box's description.
        self.edit.setAccessibleDescription(message)
