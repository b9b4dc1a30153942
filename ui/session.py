"""The signed-in session as the UI holds it (ui layer): an opaque store handle, the actor, and lock/sign-out.

The store object is never inspected here; it is only passed back into core services.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # core.dto is imported on the database lane, after the sign-in window is up
    from core.dto import Actor


@dataclass
class Session:
    folder: Path
    store: object  # core's Store, opaque to the UI
    actor: Actor

    @property
    def is_open(self) -> bool:
        return self.store is not None and self.store.is_open

    def lock(self) -> None:
        """Audit the lock, dispose the engine and wipe the key."""
        if self.is_open:
            from core.services import accounts

            accounts.lock(self.store, self.actor)
        self.store = None

    def sign_out(self) -> None:
        if self.is_open:
            from core.services import accounts

            accounts.sign_out(self.store, self.actor)
        self.store = None
