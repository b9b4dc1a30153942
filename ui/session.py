"""The signed-in session as the UI holds it (ui layer): an opaque store handle, the actor, and lock/sign-out.

The store object is never inspected here; it is only passed back into core services. `folder` is where the
store is: a store folder, or the trust's server URL (issue 16) when this PC's machine-wide settings name one.
On a server, `outbox` is the person's reports kept on this PC while the server cannot be reached
(core.services.outbox), closed with the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # core.dto is imported on the database lane, after the sign-in window is up
    from core.dto import Actor

SERVER_CHECKS = "This PC uses the trust's server; its backups and checks are IT's."


def is_server_location(location: Path | str) -> bool:
    return isinstance(location, str) and location.strip().lower().startswith(("postgresql://", "postgres://"))


def describe_location(location: Path | str) -> str:
    """Where the store is, for the sign-in window and the status line: a folder, or the server's host and database
    (never a user name or password, even if the URL held one)."""
    if not is_server_location(location):
        return f"Store: {location}"
    parts = urlsplit(location.strip())
    database = parts.path.strip("/") or "postgres"
    return f"Server: {parts.hostname or 'this computer'}, database {database}"


@dataclass
class Session:
    folder: Path | str
    store: object  # core's Store, opaque to the UI
    actor: Actor
    outbox: object = None  # core.services.outbox.Outbox on a server store, when it could be opened
    on_server: bool = field(init=False)

    def __post_init__(self) -> None:
        self.on_server = is_server_location(self.folder)

    @property
    def is_open(self) -> bool:
        return self.store is not None and self.store.is_open

    def lock(self) -> None:
        """Audit the lock, dispose the engine and wipe the key."""
        self._close("lock")

    def sign_out(self) -> None:
        self._close("sign_out")

    def _close(self, how: str) -> None:
        try:
            if self.is_open:
                from core.services import accounts

                getattr(accounts, how)(self.store, self.actor)
            self.store = None
        finally:  # the outbox's key is wiped whatever happens (the controller closes a store left open)
            self._close_outbox()

    def _close_outbox(self) -> None:
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None
