"""Sign-in and change-password dialogs (ui layer). Dialogs collect input; the caller runs the service."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.security.passwords import MIN_LENGTH, estimate
from ui.session import describe_location
from ui.widgets.a11y import LiveLabel


class SignInDialog(QDialog):
    """Username and password. `hint` shows, for example, the demo store's accounts.

    Pressing Sign in emits `submitted`; the caller tries the credentials and either accepts the dialog
    or calls `show_problem`.
    """

    submitted = Signal(str, str)

    def __init__(self, store_label: str, hint: str = "", username: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Lantern: sign in")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        title = QLabel("<h2>Sign in to Lantern</h2>")
        layout.addWidget(title)
        where = QLabel(describe_location(store_label))  # a folder, or the trust's server: never a password
        where.setWordWrap(True)
        layout.addWidget(where)
        if hint:
            hint_label = QLabel(hint)
            hint_label.setWordWrap(True)
            hint_label.setObjectName("hint")
            layout.addWidget(hint_label)
        form = QFormLayout()
        self.username = QLineEdit(username)
        self.username.setAccessibleName("Username")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        layout.addLayout(form)
        self.message = LiveLabel("Sign-in message", urgent=True)
        self.message.setWordWrap(True)
        self.message.setObjectName("error")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quit")
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        (self.password if username else self.username).setFocus()

    def _submit(self) -> None:
        username, password = self.credentials()
        if not username or not password:
            self.message.setText("Type your username and password.")
            (self.username if not username else self.password).setFocus()
            return
        self.set_busy(True)
        self.submitted.emit(username, password)

    def credentials(self) -> tuple[str, str]:
        return self.username.text().strip(), self.password.text()

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.password.clear()
        self.password.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.buttons.setEnabled(not busy)
        self.username.setEnabled(not busy)
        self.password.setEnabled(not busy)
        # "Checking…" is news, not a problem: it is not shown in the error style.
        self.message.setObjectName("" if busy else "error")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        if busy:
            self.message.setText("Checking your password…")

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        """On the lock screen Escape does nothing: it used to quit Lantern with a report half-written."""
        if event.key() == Qt.Key.Key_Escape and self.property("unlock"):
            event.accept()
            return
        super().keyPressEvent(event)


class StrengthLabel(LiveLabel):
    """The password estimate as the person types (core.security.passwords.estimate, the rules the store applies):
    will it be accepted, and why not, in plain words. Its text is also the password field's accessible description,
    so a screen reader says it on the field. A change of verdict (accepted or not) is announced; the count of
    characters still needed updates quietly, so typing is not talked over at every key."""

    def __init__(self, field: QLineEdit, username: QLineEdit | str = "", parent: QWidget | None = None):
        super().__init__("Password strength", parent=parent)
        self.setWordWrap(True)
        self.setObjectName("strength")
        self.field, self.username, self.acceptable = field, username, None
        field.textChanged.connect(self.refresh)
        if isinstance(username, QLineEdit):
            username.textChanged.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args) -> None:
        name = self.username.text().strip() if isinstance(self.username, QLineEdit) else self.username
        result = estimate(self.field.text(), username=name)
        if result.acceptable != self.acceptable:
            self.acceptable = result.acceptable
            self.setText(result.words)
        else:
            self.set_quietly(result.words)
        self.field.setAccessibleDescription(result.words)


class ChangePasswordDialog(QDialog):
    """Old password, new password twice. Shown at first sign-in with a temporary password."""

    def __init__(self, reason: str = "", parent: QWidget | None = None, *, username: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Lantern: choose a new password")
        layout = QVBoxLayout(self)
        intro = QLabel(reason or "Choose a new password.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        tip = QLabel(f"Use at least {MIN_LENGTH} characters. Three random words are easy to remember and hard "
                     "to guess. Do not reuse a password from another system.")
        tip.setWordWrap(True)
        layout.addWidget(tip)
        form = QFormLayout()
        self.old = QLineEdit()
        self.new = QLineEdit()
        self.again = QLineEdit()
        for field, name in ((self.old, "Current password"), (self.new, "New password"),
                            (self.again, "New password again")):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(name)
        form.addRow("&Current (temporary) password", self.old)
        form.addRow("&New password", self.new)
        self.strength = StrengthLabel(self.new, username)
        form.addRow("", self.strength)
        form.addRow("New password &again", self.again)
        layout.addLayout(form)
        self.message = LiveLabel("Problem with the new password", urgent=True)
        self.message.setWordWrap(True)
        self.message.setObjectName("error")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _check(self) -> None:
        if self.new.text() != self.again.text():
            self.message.setText("The two new passwords are not the same. Type them again.")
            self.again.clear()
            self.again.setFocus()
            return
        self.accept()

    def values(self) -> tuple[str, str]:
        return self.old.text(), self.new.text()

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
