"""Other PCs' changes, live (ui layer; issue 16 item 4).

On a trust's server, core.services.live.listen hears the server's notices (a ward and "incident" or "action") on a
thread of its own, with no polling. Each notice is handed to the GUI thread by a Qt signal; the notices of one
second are gathered into one `ctx.remote_changed`, so the action queue, the overdue count and the dashboard
refresh at most once a second however busy the trust is. After the listener's connection dropped and was made
again, the notices sent meanwhile are lost: `ctx.remote_changed` then carries None, "refresh everything". Started at
sign-in, stopped at lock, sign-out and quit.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from core.dto import Changes
from core.services import live
from ui.context import AppContext
from ui.errors import message_for

GATHER_MS = 1000


class LiveRefresh(QObject):
    heard = Signal(object, str)  # (ward id, "incident" or "action"), from the listener's thread

    def __init__(self, ctx: AppContext, parent: QObject | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.listener = None
        self.stopped = False
        self.pending: set[str] = set()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(GATHER_MS)
        self.timer.timeout.connect(self.flush)
        self.heard.connect(self._heard)  # queued: the listener's thread never touches a widget
        # Listening opens a connection of its own: on the database lane, not the GUI thread.
        ctx.call(lambda store, _actor: live.listen(store, self._notice), self._listening, on_error=message_for)

    def _notice(self, ward_id, what) -> None:
        try:
            self.heard.emit(ward_id, what or "")
        except RuntimeError:  # this object has gone (Lantern is closing): nobody to tell
            pass

    def _listening(self, listener) -> None:
        if self.stopped and listener is not None:  # locked or signed out while it started
            listener.stop()
            return
        self.listener = listener

    def _heard(self, _ward_id, what: str) -> None:
        self.pending.add(what)
        if not self.timer.isActive():
            self.timer.start()

    def flush(self) -> None:
        pending, self.pending = self.pending, set()
        if pending and not self.stopped:
            everything = live.EVERYTHING in pending  # back after a dropped connection: anything may have changed
            self.ctx.remote_changed.emit(None if everything else Changes(incidents="incident" in pending, actions=True))

    def stop(self) -> None:
        self.stopped = True
        self.timer.stop()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
