"""Progress and cancelling for long exports (core layer): a generator yields Progress and checks a CancelToken.

The CLI and the GUI drive the same generator: `drive(steps, on_progress)` runs it to the end and returns
the generator's result. The GUI sets the token from its thread; the worker stops at the next check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

from core.errors import LanternError

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """How far a long task has got: `done` of `total` steps, and a short plain-English stage."""

    done: int
    total: int
    stage: str


class Cancelled(LanternError):
    """The user stopped the task. Nothing was written."""

    def __init__(self, message: str = "Export cancelled. Nothing was written."):
        super().__init__(message)


class CancelToken:
    """Set from any thread; the task checks it between steps and stops cleanly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop."""
        if self._event.is_set():
            raise Cancelled()


def drive(steps: Generator[Progress, None, T], on_progress: Callable[[Progress], None] | None = None) -> T:
    """Run a progress generator to its end, passing each Progress on; return what the generator returns."""
    while True:
        try:
            progress = next(steps)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(progress)
