"""Two PCs see each other's changes live (issue 16 item 4): a second process reports as the nurse, and the ward
manager's Lantern hears of it within seconds through the server's notices, without polling, then finds the new
action in its queue. A notice names a ward and what changed, never any text of the record."""

from __future__ import annotations

import queue as stdlib_queue
import subprocess
import sys
import textwrap
import uuid

import pytest

from core.db.server import ChangeListener
from core.services import incidents, live, queue
from tests.core.helpers_common import draft, python_env
from tests.pg.conftest import PASSWORDS, build_trust


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


@pytest.fixture
def trust_of_own(own_server):
    name = f"t_{uuid.uuid4().hex[:12]}"
    with own_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    for sign_in, oak in build_trust(own_server, name):
        with own_server.admin() as conn:  # the test server commits lazily (synchronous_commit=off): write it all
            conn.execute("CHECKPOINT")    # down now, so a pause loses none of the accounts' new passwords
        yield sign_in, oak


def test_the_listener_comes_back_by_itself_after_the_server_restarts(own_server, trust_of_own):
    """A server restart (or a network blip) drops the listener's connection: it connects again by itself, says
    once that everything must be read again (the notices sent meanwhile are lost), and hears the next report."""
    sign_in, oak = trust_of_own
    manager_store, manager = sign_in("manager")
    heard: stdlib_queue.Queue = stdlib_queue.Queue()
    listener = live.listen(manager_store, lambda ward, what: heard.put((ward, what)))
    try:
        own_server.pause()
        own_server.resume()
        assert heard.get(timeout=60) == (None, live.EVERYTHING)
        assert listener.listening
        nurse_store, nurse = sign_in("nurse")  # another PC reports once the server is back
        incidents.submit_report(nurse_store, nurse, draft(oak), send_id=str(uuid.uuid4()))
        notices = {heard.get(timeout=30)}
        while not heard.empty():
            notices.add(heard.get())
        assert (oak, "incident") in notices and (None, live.EVERYTHING) not in notices  # told once, not per try
        assert queue.list_queue(manager_store, manager).rows
    finally:
        listener.stop()
    assert not listener.listening


def test_the_listener_stops_at_sign_out_while_the_server_is_out_of_reach(own_server, trust_of_own):
    sign_in, _oak = trust_of_own
    manager_store, _manager = sign_in("manager")
    heard: stdlib_queue.Queue = stdlib_queue.Queue()
    listener = live.listen(manager_store, lambda ward, what: heard.put((ward, what)))
    own_server.pause()
    try:
        listener.stop()  # while it waits to try again: it ends, and never tries again
        assert not listener._thread.is_alive() and not listener.listening
    finally:
        own_server.resume()
    assert heard.empty()
