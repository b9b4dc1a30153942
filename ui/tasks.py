"""The serialized database lane (ui layer): one worker thread runs core calls in order; results come back by signal.

Argon2id sign-in and every store call run here, so the window never freezes. Quitting waits for the lane (see
ui.app), so no worker thread outlives the objects it reports to.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QRunnable, QThreadPool, Signal
from shiboken6 import isValid

_RUNNERS: weakref.WeakSet[TaskRunner] = weakref.WeakSet()


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable, signals: _Signals):
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as err:  # noqa: BLE001 - every failure is reported, never lost
            self._report(self.signals.failed, err)
        else:
            self._report(self.signals.succeeded, result)

    def _report(self, signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the receiver was deleted (Lantern is quitting): nobody is waiting for this result
            pass


class TaskRunner(QObject):
    """Run callables one at a time off the GUI thread."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._live: set[_Signals] = set()
        _RUNNERS.add(self)

    @property
    def busy(self) -> bool:
        """A job is queued, running, or finished with its result not yet delivered on the GUI thread."""
        return bool(self._live)

    def run(self, fn: Callable, on_done: Callable[[object], None], on_error: Callable[[BaseException], None]) -> None:
        signals = _Signals()
        self._live.add(signals)

        def finish(handler, value):
            self._live.discard(signals)
            handler(value)

        signals.succeeded.connect(lambda value: finish(on_done, value))
        signals.failed.connect(lambda err: finish(on_error, err))
        self.pool.start(_Job(fn, signals))

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)


def run_and_wait(fn: Callable):
    """Run `fn` off the GUI thread and wait for it while the GUI thread keeps handling events (painting, the
    screen reader, a progress dialog), then return its result or raise its error.

    For the few steps a person must wait for anyway before going on (setting up the demo store, a password
    change's Argon2id), which would otherwise freeze the window for a second or more."""
    runner = TaskRunner()
    loop = QEventLoop()
    outcome: dict = {}

    def finished(key):
        def handler(value):
            outcome[key] = value
            loop.quit()
        return handler

    runner.run(fn, finished("result"), finished("error"))
    if not outcome:
        loop.exec()
    runner.wait()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def drain(msecs: int = 30000) -> bool:
    """Wait for every lane and deliver every result on the GUI thread, until no lane is busy (tests call this
    between tests, so a job never finishes inside the next one). Returns False if a lane is still busy."""
    deadline = time.monotonic() + msecs / 1000
    if QCoreApplication.instance() is None:
        return all(r.wait(msecs) for r in list(_RUNNERS) if isValid(r))
    while True:
        runners = [r for r in list(_RUNNERS) if isValid(r)]
        for runner in runners:
            runner.wait(max(0, int((deadline - time.monotonic()) * 1000)))
        QCoreApplication.sendPostedEvents()  # the queued results: their handlers may start more jobs
        if not any(r.busy for r in runners if isValid(r)):
            return True
        if time.monotonic() > deadline:
            return False
