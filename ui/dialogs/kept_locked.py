"""Reports kept on this PC that the person's new password cannot open (ui layer; issue 16).

While the trust's server could not be reached, her reports were kept on this PC, locked with her password
(core.services.outbox). After a password reset by the safeguarding lead, the new password cannot open them. At
sign-in she is told plainly how many there are and asked for her previous password: it opens them, they are locked
with the new password from then on, and they are sent as usual. If she does not know it, she is told that they stay
on this PC, that nobody can read them without it, and that she should report those incidents again. Nothing is
deleted; no password is shown or logged.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout

from core.services import outbox
from ui.errors import message_for
from ui.widgets.a11y import LiveLabel


def what_is_kept(locked: outbox.LockedOutbox) -> str:
    """'2 reports you sent and an unfinished report', in plain words (or, when the count is not known, a general
    phrase)."""
    if locked.reports is None or locked.forms is None:
        return "Reports you sent, or an unfinished report,"
    parts = []
    if locked.reports:
        parts.append("1 report you sent" if locked.reports == 1 else f"{locked.reports} reports you sent")
    if locked.forms:
        parts.append("an unfinished report")
    return " and ".join(parts)


def intro_text(locked: outbox.LockedOutbox) -> str:
    one = _one(locked)
    return (f"<b>{what_is_kept(locked)} {'is' if one else 'are'} kept on this PC from when the server could not be "
            f"reached, and not sent yet.</b> {'It is' if one else 'They are'} locked with your previous password, "
            f"from before your password was reset, so your new password cannot open {'it' if one else 'them'}.")


def _one(locked: outbox.LockedOutbox) -> bool:
    return locked.reports is not None and (locked.reports or 0) + (locked.forms or 0) == 1


def ask_text(locked: outbox.LockedOutbox) -> str:
    return ("If you know your previous password, type it here. "
            f"{'It is' if _one(locked) else 'They are'} then sent to the server as usual.")


def not_known_text(locked: outbox.LockedOutbox) -> str:
    if _one(locked):
        return ("<b>Please report that incident again now</b> (Report an incident). The kept report stays on this "
                "PC, locked: nobody can read or send it without your previous password, not Lantern and not IT. It "
                "has not been deleted. If you cannot remember which incident it was, tell your ward manager.")
    return ("<b>Please report those incidents again now</b> (Report an incident). The kept reports stay on this PC, "
            "locked: nobody can read or send them without your previous password, not Lantern and not IT. They have "
            "not been deleted. If you cannot remember which incidents they were, tell your ward manager.")


OPENED = ("Opened. From now on your new password opens them, and Lantern sends them to the server now (the status "
          "line at the bottom says when they have gone).")


class KeptLockedDialog(QDialog):
    """Asks for the previous password (`previous_given`), or hears that she does not know it (`not_known`); the
    caller does the work on the database lane and calls `opened`, `refused` or `told_not_known`."""

    previous_given = Signal(str)
    not_known = Signal()

    def __init__(self, locked: outbox.LockedOutbox, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Reports kept on this PC are locked")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        self.intro = QLabel(intro_text(locked))
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.locked = locked
        self.ask = QLabel(ask_text(locked))
        self.ask.setWordWrap(True)
        layout.addWidget(self.ask)
        self.form = form = QFormLayout()
        self.previous = QLineEdit()
        self.previous.setEchoMode(QLineEdit.EchoMode.Password)
        self.previous.setAccessibleName("Previous password")
        form.addRow("&Previous password", self.previous)
        layout.addLayout(form)
        self.message = LiveLabel("What happened to the kept reports", urgent=True)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.open_button = QPushButton("&Open them")
        self.open_button.setDefault(True)
        self.unknown_button = QPushButton("I do &not know it")
        self.close_button = QPushButton("&Close")
        for button in (self.open_button, self.unknown_button, self.close_button):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button.hide()  # after adding: the button box shows what it is given
        layout.addWidget(self.buttons)
        self.open_button.clicked.connect(self._open_clicked)
        self.unknown_button.clicked.connect(self._unknown_clicked)
        self.close_button.clicked.connect(self.accept)
        self.previous.setFocus()

    def _open_clicked(self) -> None:
        if not self.previous.text():
            self.message.setText("Type your previous password, or choose 'I do not know it'.")
            self.previous.setFocus()
            return
        self._busy(True)
        self.previous_given.emit(self.previous.text())

    def _unknown_clicked(self) -> None:
        self._busy(True)
        self.not_known.emit()

    def _busy(self, busy: bool) -> None:
        for widget in (self.previous, self.open_button, self.unknown_button):
            widget.setEnabled(not busy)

    def refused(self, err: BaseException) -> None:
        self._busy(False)
        self.previous.clear()
        self.previous.setFocus()
        self.message.setText(message_for(err))

    def opened(self) -> None:
        self._finish(OPENED)

    def told_not_known(self) -> None:
        self._finish(not_known_text(self.locked))

    def _finish(self, text: str) -> None:
        self.previous.clear()
        for widget in (self.ask, self.previous, self.open_button, self.unknown_button):
            widget.hide()
        self.form.labelForField(self.previous).hide()
        self.message.setText(text)
        self.close_button.show()
        self.close_button.setDefault(True)
        self.close_button.setFocus()


def offer_locked_outbox(ctx, locked: outbox.LockedOutbox, password: str, parent=None) -> KeptLockedDialog:
    """At sign-in: the dialog for an outbox her password cannot open, wired to the database lane. On the previous
    password: opened, re-wrapped to `password` (the one she signed in with), and sent as usual; on 'I do not know
    it': set aside on this PC, untouched, and a new outbox made so reports can be kept again."""
    session = ctx.session
    location, username = str(session.folder), session.actor.username
    dialog = KeptLockedDialog(locked, parent)

    def adopt(kept) -> None:
        if session.is_open and session.outbox is None:
            session.outbox = kept
        else:  # signed out meanwhile: nothing is lost, it opens with the new password next time
            kept.close()

    def opened(kept) -> None:
        adopt(kept)
        dialog.opened()
        ctx.kept_changed.emit()  # the kept reports go now, as usual
        ctx.outbox_opened.emit()  # the unfinished report comes back in the form

    def set_aside(_store, _actor):
        outbox.set_aside(location, username)
        return outbox.open_outbox(location, username, password)

    def aside(kept) -> None:
        adopt(kept)
        dialog.told_not_known()

    dialog.previous_given.connect(lambda previous: ctx.call(
        lambda _s, _a: outbox.open_with_previous(location, username, previous, password), opened,
        on_error=dialog.refused))
    dialog.not_known.connect(lambda: ctx.call(set_aside, aside, on_error=dialog.refused))
    dialog.open()
    return dialog
