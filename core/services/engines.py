"""One name for each action, on either engine (core layer; issue 16 item 1).

A store is the embedded SQLCipher store (core.db.store.Store) or a trust's server (core.db.server.ServerStore,
`kind == "server"`). Most services are the same SQL on both. Where the two differ (accounts: key slots on one,
login roles on the other), the embedded store's function is decorated with `on_server("name")`, and on a server
store the call goes to core.services.server_accounts.<name> with the same arguments. The front ends call one
name either way.
"""

from __future__ import annotations

import functools


def location(given: str):
    """A store's location as a front end was given it (`--store`): a trust server's postgresql:// address as it
    is, or a folder as a Path."""
    from pathlib import Path

    from core.db.server import is_server_location

    return given if is_server_location(given) else Path(given)


def is_server(store) -> bool:
    return getattr(store, "kind", "") == "server"


def on_server(name: str):
    def wrap(fn):
        @functools.wraps(fn)
        def call(store, *args, **kwargs):
            if is_server(store):
                from core.services import server_accounts  # imported here: it builds on the services it stands in for

                return getattr(server_accounts, name)(store, *args, **kwargs)
            return fn(store, *args, **kwargs)
        return call
    return wrap
