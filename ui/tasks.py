"""The serialized database lane (ui layer): one worker thread runs core calls in order; results come back by signal.

Argon2id sign-in and every store call run here, so the window never freezes.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


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
            self.signals.failed.emit(err)
        else:
            self.signals.succeeded.emit(result)


class TaskRunner(QObject):
    """Run callables one at a time off the GUI thread."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._live: set[_Signals] = set()

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
