"""The desktop app while the trust's server is out of reach (issue 16), driven by keyboard and mouse through the
real windows against a real throwaway PostgreSQL server that the tests stop (`pause`) and start again (`resume`).

A screen's read that cannot reach the server is said once, in the status line and to a screen reader, never as a
pile of message boxes; the screens read again by themselves when the server answers."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.errors import ServerUnreachable
from tests.pg.conftest import PASSWORDS
from tests.pg.test_pg_ui import controller, server_trust  # noqa: F401 - fixtures: this PC set to use the server
from tests.ui.conftest import announcements  # noqa: F401 - the screen-reader spy, a fixture
from tests.ui.nurse_helpers import WAIT, sign_in


@pytest.fixture
def boxes(qtbot):
    """Every message box that opens, closed at once and its text kept (so a box cannot stall the test)."""
    seen: list[str] = []

    def close_boxes():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                seen.append(widget.text())
                widget.done(0)

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(close_boxes)
    timer.start()
    yield seen
    timer.stop()


def written_down(own_server) -> None:
    """The test server commits lazily (synchronous_commit=off): write everything down before a power cut."""
    with own_server.admin() as conn:
        conn.execute("CHECKPOINT")


def test_reads_while_the_server_is_down_are_said_once_in_the_status_line_and_the_screens_recover(
        qtbot, controller, own_server, server_trust, boxes, announcements):  # noqa: F811
    from core.services import incidents
    from tests.core.helpers_common import draft
    from ui.outbox import BACK_TEXT
    from ui.pages.action_queue import ActionQueuePage
    from ui.pages.dashboard import DashboardPage

    sign_in_as, oak, _location = server_trust
    window = sign_in(qtbot, controller, "manager", PASSWORDS["manager"])
    queue, dashboard = window.page(ActionQueuePage), window.page(DashboardPage)
    window.tabs.setCurrentWidget(queue)
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=WAIT)
    assert not window.server_label.isVisibleTo(window)
    unreachable = ServerUnreachable().message
    written_down(own_server)
    own_server.pause()
    try:
        queue.table.setFocus()
        qtbot.keyClick(queue.table, Qt.Key.Key_F5)  # the queue, read again by keyboard
        qtbot.waitUntil(lambda: window.server_label.isVisibleTo(window), timeout=WAIT)
        window.tabs.setCurrentWidget(dashboard)
        qtbot.mouseClick(dashboard.show_button, Qt.MouseButton.LeftButton)  # the dashboard, by mouse
        window.refresh_overdue()  # the overdue count's minute
        qtbot.waitUntil(lambda: not controller.runner.busy, timeout=WAIT)
        assert boxes == []  # no message box for a read
        assert unreachable in window.server_label.text()
        assert dashboard.headline.text().startswith("Figures not loaded")  # not "Loading…" for ever
        said = [(urgent, m) for w, m, urgent in announcements if w is window.server_label]
        assert len(said) == 1 and said[0][0] and unreachable in said[0][1]  # said once, at once
    finally:
        own_server.resume()
    store, nurse = sign_in_as("nurse")  # meanwhile another PC reports
    incidents.submit_report(store, nurse, draft(oak, description="Synthetic: sent once the server was back."),
                            send_id=str(uuid.uuid4()))
    window.server_reach.retry.setInterval(300)  # the 30-second retry, quicker for the test
    qtbot.waitUntil(lambda: window.server_label.text() == BACK_TEXT, timeout=WAIT)
    assert any(w is window.server_label and m == BACK_TEXT for w, m, _u in announcements)
    qtbot.waitUntil(lambda: queue.model.rowCount() > 0, timeout=WAIT)  # the screens read again by themselves
    qtbot.waitUntil(lambda: not dashboard.headline.text().startswith(("Figures not loaded", "Loading")),
                    timeout=WAIT)
    assert boxes == []


def test_a_write_that_fails_while_the_server_is_down_is_still_shown(qtbot, controller, own_server, boxes):  # noqa: F811
    from ui.pages.admin import AdminPage

    window = sign_in(qtbot, controller, "admin", PASSWORDS["admin"])
    admin = window.page(AdminPage)
    window.tabs.setCurrentWidget(admin)
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=WAIT)
    written_down(own_server)
    own_server.pause()
    try:
        qtbot.keyClicks(admin.new_ward, "Birch Ward")
        qtbot.mouseClick(admin.add_ward_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(boxes), timeout=WAIT)
    finally:
        own_server.resume()
    assert boxes == [ServerUnreachable().message]


def test_after_the_server_restarts_another_pcs_report_still_reaches_the_managers_open_queue(
        qtbot, controller, own_server, server_trust, boxes):  # noqa: F811
    from core.services import incidents
    from tests.core.helpers_common import draft
    from ui.pages.action_queue import ActionQueuePage

    sign_in_as, oak, _location = server_trust
    window = sign_in(qtbot, controller, "manager", PASSWORDS["manager"])
    queue = window.page(ActionQueuePage)
    window.tabs.setCurrentWidget(queue)
    qtbot.waitUntil(lambda: controller.live is not None and controller.live.listener is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=WAIT)
    assert queue.model.rowCount() == 0
    written_down(own_server)
    own_server.pause()  # a restart: the listener's connection drops
    own_server.resume()
    store, nurse = sign_in_as("nurse")  # the nurse on another PC
    incidents.submit_report(store, nurse, draft(oak, description="Synthetic: after the restart."),
                            send_id=str(uuid.uuid4()))
    qtbot.waitUntil(lambda: queue.model.rowCount() > 0, timeout=WAIT)  # no key pressed, no sign-in again
    assert controller.live.listener.listening and boxes == []


SHOTS = __import__("os").environ.get("LANTERN_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_the_server_down_status_line_screenshot(qtbot, controller, own_server, boxes):  # noqa: F811
    from pathlib import Path

    from ui.pages.action_queue import ActionQueuePage

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    window = sign_in(qtbot, controller, "manager", PASSWORDS["manager"])
    window.resize(1366, 768 - 48)  # a 1366x768 screen less the title bar and taskbar
    queue = window.page(ActionQueuePage)
    window.tabs.setCurrentWidget(queue)
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=WAIT)
    written_down(own_server)
    own_server.pause()
    try:
        qtbot.keyClick(queue.table, Qt.Key.Key_F5)
        qtbot.waitUntil(lambda: window.server_label.isVisibleTo(window), timeout=WAIT)
        qtbot.wait(300)
        window.grab().save(str(out / "server-unreachable-status-line.png"))
    finally:
        own_server.resume()


def test_opening_a_record_while_the_server_is_down_says_so_where_the_person_is_looking(
        qtbot, controller, own_server, server_trust, boxes, announcements):  # noqa: F811
    """A nurse arrowing to her report hears "Not loaded" in its pane (no box per row); a manager who presses
    Enter on an incident, and waits for it, is told in a box."""
    from core.services import incidents
    from tests.core.helpers_common import draft
    from ui.pages.my_incidents import MyIncidentsPage

    sign_in_as, oak, _location = server_trust
    store, nurse = sign_in_as("nurse")
    incidents.submit_report(store, nurse, draft(oak, description="Synthetic: opened while the server is down."),
                            send_id=str(uuid.uuid4()))
    unreachable = ServerUnreachable().message
    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    mine = window.page(MyIncidentsPage)
    window.tabs.setCurrentWidget(mine)
    qtbot.waitUntil(lambda: mine.proxy.rowCount() == 1, timeout=WAIT)
    mine.table.clearSelection()
    mine.table.setCurrentIndex(mine.table.model().index(-1, -1))
    written_down(own_server)
    own_server.pause()
    try:
        mine.table.setFocus()
        qtbot.keyClick(mine.table, Qt.Key.Key_Down)
        qtbot.waitUntil(lambda: mine.detail.text().startswith("Not loaded"), timeout=WAIT)
        assert unreachable in mine.detail.text() and boxes == []
        assert any(w is mine.detail and unreachable in m for w, m, _urgent in announcements)
    finally:
        own_server.resume()


def test_a_manager_who_opens_an_incident_while_the_server_is_down_is_told_in_a_box(
        qtbot, controller, own_server, server_trust, boxes):  # noqa: F811
    from core.services import incidents
    from tests.core.helpers_common import draft
    from ui.pages.review import ReviewPage

    sign_in_as, oak, _location = server_trust
    store, nurse = sign_in_as("nurse")
    incidents.submit_report(store, nurse, draft(oak, description="Synthetic: opened by a manager, server down."),
                            send_id=str(uuid.uuid4()))
    window = sign_in(qtbot, controller, "manager", PASSWORDS["manager"])
    page = window.page(ReviewPage)
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.list_model.rowCount() >= 1, timeout=WAIT)
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=WAIT)
    written_down(own_server)
    own_server.pause()
    try:
        page.list.setFocus()
        page.list.setCurrentIndex(page.list_model.index(0, 0))
        qtbot.keyClick(page.list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(boxes), timeout=WAIT)
    finally:
        own_server.resume()
    assert boxes == [ServerUnreachable().message]
