"""Two PCs see each other's changes live (issue 16 item 4): a second process reports as the nurse, and the ward
manager's Lantern hears of it within seconds through the server's notices, without polling, then finds the new
action in its queue. A notice names a ward and what changed, never any text of the record."""

from __future__ import annotations

import queue as stdlib_queue
import subprocess
import sys
import textwrap

from core.db.server import ChangeListener
from core.services import queue
from tests.core.helpers_common import python_env
from tests.pg.conftest import PASSWORDS


def test_another_pcs_report_reaches_the_managers_queue_within_seconds(trust, pg_server, pg_database):
    sign_in, oak = trust
    manager_store, manager = sign_in("manager")
    heard: stdlib_queue.Queue = stdlib_queue.Queue()
    listener = ChangeListener(manager_store, lambda ward, what: heard.put((ward, what)))
    try:
        before = len(queue.list_queue(manager_store, manager).rows)
        location = pg_server.url(pg_database).replace(f"{pg_server.superuser}@", "")
        other_pc = textwrap.dedent(f"""
            from core.services import incidents
            from core.services.server_setup import sign_in_server
            from tests.core.helpers_common import draft
            store, nurse = sign_in_server({location!r}, "nurse", {PASSWORDS["nurse"]!r})
            incidents.submit_report(store, nurse, draft({oak}))
            store.close()
        """)
        subprocess.run([sys.executable, "-c", other_pc], check=True, env=python_env(), timeout=120)
        notices = {heard.get(timeout=10)}
        while not heard.empty():
            notices.add(heard.get())
        assert (oak, "incident") in notices and (oak, "action") in notices
        assert len(queue.list_queue(manager_store, manager).rows) > before
    finally:
        listener.stop()
