"""Hearing other PCs' changes (core layer; issue 16 item 4), for the front ends, which may not reach core.db.

On a trust's server, `listen(store, on_change)` starts listening for the server's notices (core.db.server.
ChangeListener: a ward number and "incident" or "action", no text) and calls `on_change(ward_id, what)` from its
own thread; the caller stops it with `.stop()`. A dropped connection is made again by itself (a few seconds
apart), and then `on_change(None, EVERYTHING)` says once that notices may have been missed, so everything shown is
read again. On the embedded store there is no one else to hear: it returns None.
"""

from __future__ import annotations

from core.services.engines import is_server

EVERYTHING = "everything"  # core.db.server.EVERYTHING: after a reconnection, refresh everything


def listen(store, on_change):
    if not is_server(store):
        return None
    from core.db.server import ChangeListener

    return ChangeListener(store, on_change)


def check_reachable(store, _actor) -> None:
    """Reach the server with the smallest read there is (the app's retry while it is out of reach):
    ServerUnreachable if it still cannot be reached."""
    from sqlalchemy import text

    from core.db.store import unit_of_work

    with unit_of_work(store, write=False) as session:
        session.execute(text("SELECT 1"))
