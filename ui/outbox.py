"""Reports kept on this PC while the trust's server could not be reached (ui layer; issue 16 item 5).

Every 30 seconds, and as soon as someone signs in, the kept reports are sent on the database lane
(core.services.outbox.send_kept: each under the id the PC gave it, so none is sent twice). The status line says
how many are still waiting, and says once, with their references, when they have been sent.

`ServerReach` says in the status line, once, that the server cannot be reached when a screen's read finds it out of
reach (ctx.server_down; never a message box for a read), tries again every 30 seconds, and when a read reaches it
again says so and has every screen read again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from shiboken6 import isValid

from core.dto import Changes
from core.services import live, outbox
from ui.context import AppContext
from ui.errors import message_for
from ui.widgets.a11y import LiveLabel

RETRY_MS = 30_000


def waiting_text(count: int) -> str:
    if not count:
        return ""
    return f"{count} report{'s' if count != 1 else ''} kept on this PC, waiting for the server"


def sent_text(references: list[str], left: int) -> str:
    sent = (f"Your report kept on this PC has been sent: {references[0]}." if len(references) == 1 else
            f"Your {len(references)} reports kept on this PC have been sent: {', '.join(references)}.")
    return f"{sent} {waiting_text(left)}." if left else sent


class KeptReports(QObject):
    """Sends the kept reports when the server answers, and keeps `label` saying how many wait."""

    def __init__(self, ctx: AppContext, label: LiveLabel, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx, self.label = ctx, label
        self.timer = QTimer(self)
        self.timer.setInterval(RETRY_MS)
        self.timer.timeout.connect(self.send)
        self.timer.start()
        ctx.kept_changed.connect(self.send)
        QTimer.singleShot(0, self.send)  # at sign-in: anything kept last time goes now

    def send(self) -> None:
        kept = self.ctx.session.outbox
        if kept is None or not self.ctx.session.is_open:
            return

        def job(store, actor):
            if not outbox.kept_reports(kept):
                return [], 0
            sent = outbox.send_kept(kept, store, actor)  # stops quietly while the server is out of reach
            return sent, len(outbox.kept_reports(kept))

        self.ctx.call(job, self._sent, on_error=self._failed)

    def _sent(self, result) -> None:
        sent, left = result
        if not isValid(self.label):
            return
        if sent:
            self.label.setText(sent_text([d.reference for d in sent], left))
            self.ctx.changed.emit(Changes(incidents=True, actions=True, ids=tuple(d.incident_id for d in sent)))
        elif left or self.label.text().endswith("waiting for the server"):  # a "sent" message stays up
            self.label.setText(waiting_text(left))
        self.label.setVisible(bool(self.label.text()))

    def _failed(self, err: BaseException) -> None:
        """A kept report the server refused for another reason (say, a ward she no longer works on): it stays kept,
        and the person is told why."""
        if isValid(self.label) and self.ctx.session.is_open:
            self.label.setText(f"A report kept on this PC could not be sent: {message_for(err)}")
            self.label.show()


def unreachable_text(message: str) -> str:
    return f"<b>{message}</b> What is on screen may be out of date; Lantern tries again every 30 seconds."


BACK_TEXT = "The incident server answers again: the screens are up to date."
BACK_SHOWN_MS = 20_000


class ServerReach(QObject):
    """The status line's word on the server while screens' reads cannot reach it (issue 16)."""

    def __init__(self, ctx: AppContext, label: LiveLabel, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx, self.label = ctx, label
        self.retry = QTimer(self)
        self.retry.setInterval(RETRY_MS)
        self.retry.timeout.connect(self.check)
        self.fade = QTimer(self)
        self.fade.setSingleShot(True)
        self.fade.setInterval(BACK_SHOWN_MS)
        self.fade.timeout.connect(self._fade)
        ctx.server_down.connect(self._changed)

    def check(self) -> None:
        if self.ctx.session.is_open:
            self.ctx.call(live.check_reachable, read=True)

    def _changed(self, message: str) -> None:
        if not isValid(self.label):
            return
        self.fade.stop()
        if message:
            self.label.show()
            self.label.setText(unreachable_text(message))
            self.retry.start()
            return
        self.retry.stop()
        self.label.setText(BACK_TEXT)
        self.fade.start()
        self.ctx.changed.emit(None)  # every screen reads again what it could not read meanwhile

    def _fade(self) -> None:
        if isValid(self.label) and self.label.text() == BACK_TEXT:
            self.label.hide()
            self.label.set_quietly("")
