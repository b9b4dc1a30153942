"""What every screen is given (ui layer): the session, the database lane and a change signal.

Screens call `ctx.call(fn, on_done)`; `fn` receives (store, actor) and runs a core service on the
database lane; `on_done` gets its result on the GUI thread; errors are shown by the one mapping in
ui.errors unless `on_error` is given (never on a page deleted meanwhile, nor after the session closed).
After a change, a screen emits `ctx.changed` so others refresh.
An error saying the store is damaged also emits `ctx.damaged`, so the main window shows it is read-only.
A read (`read=True`) that finds the trust's server out of reach is not a message box: `ctx.server_down` says it
once, in the status line (ui.outbox.ServerReach), until a later read reaches the server again (issue 16).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QWidget
from shiboken6 import isValid

from core.errors import ServerUnreachable, StoreDamaged, StoreNotFound, StoreReadOnly
from ui.errors import message_for, show_error
from ui.session import Session
from ui.tasks import TaskRunner


class AppContext(QObject):
    changed = Signal(object)  # a core.dto.Changes (or None for "refresh everything")
    locked = Signal()
    damaged = Signal()  # damage was found in the store: it is read-only from now on (REL-05)
    kept_changed = Signal()  # on a server: a report was kept on this PC, or kept ones were sent (issue 16 item 5)
    remote_changed = Signal(object)  # on a server: another PC changed something (a core.dto.Changes; issue 16 item 4)
    server_down = Signal(str)  # a read found the server out of reach (its message), or "" once a read reaches it
    outbox_opened = Signal()  # on a server: kept reports locked by a reset were opened with the previous password

    def __init__(self, session: Session, runner: TaskRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.unreachable = False  # the last read found the server out of reach

    @property
    def actor(self):
        return self.session.actor

    def call(self, fn: Callable, on_done: Callable[[object], None] | None = None,
             on_error: Callable[[BaseException], None] | None = None, parent: QWidget | None = None, *,
             read: bool = False) -> None:
        """`read`: only reads, so a server out of reach is said in the status line, not in a box (a write's
        failure is always shown where the person sees it)."""
        session = self.session
        done = on_done or (lambda _r: None)

        def job():
            if not session.is_open:
                raise StoreNotFound("Lantern is locked. Sign in again to carry on.")
            return fn(session.store, session.actor)

        def failed(err: BaseException) -> None:
            if isinstance(err, (StoreDamaged, StoreReadOnly)):
                self.damaged.emit()
            if on_error is not None:
                on_error(err)
            elif read and session.is_open:
                self.read_failed(parent, err)
            elif session.is_open:
                show_error(parent, err)  # only logs it when `parent` has been deleted meanwhile
            else:  # locked or signed out since: the window is hidden and the sign-in window says what to do
                message_for(err)

        def succeeded(result) -> None:
            if read and self.unreachable:
                self.unreachable = False
                self.server_down.emit("")
            done(result)

        self.runner.run(job, succeeded, failed)

    def read_failed(self, parent: QWidget | None, err: BaseException) -> None:
        """A read that failed: the server out of reach goes to the status line, once; anything else in a box."""
        if not isinstance(err, ServerUnreachable):
            show_error(parent, err)
        elif self.session.is_open and not self.unreachable:
            self.unreachable = True
            self.server_down.emit(message_for(err))

    def load_ward_choices(self, combo: QComboBox) -> None:
        """Add the wards this user may see to a ward filter (after its "All" entry), from the database lane."""
        from core.services import queue

        def add(wards) -> None:
            if isValid(combo):
                combo.blockSignals(True)
                for ward_id, name in wards:
                    combo.addItem(name, ward_id)
                combo.blockSignals(False)

        self.call(queue.ward_choices, add, parent=combo, read=True)
