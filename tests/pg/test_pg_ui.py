"""The desktop app on a trust's server (issue 16), driven by keyboard through the real windows against a real
throwaway PostgreSQL server. This module has its own server, so a test can stop it (a network failure as the app
sees it) and start it again. The PC is pointed at the server the way IT does it: `server_url` in the machine-wide
settings file (LANTERN_SITE_CONFIG_DIR, a temporary folder in the tests)."""

from __future__ import annotations

import json
import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core import paths
from core.errors import ServerUnreachable
from tests.pg.conftest import PASSWORDS, build_trust
from tests.ui.conftest import announcements  # noqa: F401 - the screen-reader spy, a fixture
from tests.ui.nurse_helpers import WAIT, sign_in
from ui.app import AppController
from ui.session import SERVER_CHECKS


@pytest.fixture
def server_trust(own_server):
    """A trust on this module's server, and this PC set to use it: (sign_in, oak ward id, server URL)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with own_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    location = own_server.url(name).replace(f"{own_server.superuser}@", "")
    settings = paths.machine_settings_path()
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"server_url": location}), encoding="utf-8")
    for sign_in_as, oak in build_trust(own_server, name):
        yield sign_in_as, oak, location


@pytest.fixture
def controller(server_trust):
    app = AppController(paths.configured_server()[0])
    yield app
    app.shutdown()


def labels(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if label.isVisibleTo(widget)]


def test_a_nurse_signs_in_to_the_server_named_in_the_machine_settings(qtbot, controller, server_trust):
    _sign_in, _oak, location = server_trust
    database = location.rsplit("/", 1)[1]
    dialog = controller.show_sign_in()
    qtbot.addWidget(dialog)
    assert f"Server: 127.0.0.1, database {database}" in labels(dialog)
    assert not any("postgresql" in text or PASSWORDS["nurse"] in text for text in labels(dialog))
    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    assert window.status_label.text() == f"Server: 127.0.0.1, database {database}"
    assert controller.session.on_server and controller.session.outbox is not None
    controller.lock()  # lock and unlock work the same on the server
    assert controller.session is None and controller.dialog.property("unlock")
    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    assert controller.session.outbox is not None


def test_a_server_out_of_reach_at_sign_in_is_said_in_the_sign_in_window(qtbot, controller, own_server,
                                                                         announcements):  # noqa: F811
    dialog = controller.show_sign_in("nurse")
    qtbot.waitExposed(dialog)
    own_server.pause()
    try:
        qtbot.keyClicks(dialog.password, PASSWORDS["nurse"])
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        unreachable = ServerUnreachable().message
        qtbot.waitUntil(lambda: dialog.message.text() == unreachable, timeout=WAIT)
    finally:
        own_server.resume()
    assert (dialog.message, unreachable, True) in announcements
    assert dialog.password.text() == "" and dialog.buttons.isEnabled() and controller.window is None


def test_the_administrator_sees_that_backups_and_checks_are_it_s(qtbot, controller):
    window = sign_in(qtbot, controller, "admin", PASSWORDS["admin"])
    from ui.pages.admin import AdminPage

    admin = window.page(AdminPage)
    window.tabs.setCurrentWidget(admin)
    assert SERVER_CHECKS in labels(admin)
    assert not admin.backup_box.isVisibleTo(admin) and not window.restore_button.isVisibleTo(window)
    assert not any("Store:" in text for text in labels(window))


def test_a_report_sent_while_the_server_is_down_is_kept_then_sent_once_and_she_is_told(
        qtbot, controller, own_server, server_trust, announcements):  # noqa: F811
    from sqlalchemy import select

    from core.db.models import Incident
    from core.db.store import unit_of_work
    from tests.ui.nurse_helpers import form_of, keyboard_report
    from ui.pages.incident_form.form import KEPT_ON_THIS_PC

    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    window.kept_reports.timer.setInterval(300)  # the 30-second retry, quicker for the test
    form = keyboard_report(qtbot, window, description="Synthetic: sent while the server was down.", submit=False)
    own_server.pause()
    try:
        qtbot.keyClick(form.summary.submit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: form.banner.text() == KEPT_ON_THIS_PC, timeout=WAIT)
        assert (form.banner, KEPT_ON_THIS_PC, True) in announcements  # said at once, over anything else
        assert not form.has_content()  # the report is safe on this PC; the form is ready for the next one
        # The safeguarding steps still show offline (the rules run here), with no reference yet and nothing to tick
        qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
        assert form.prompts.windowTitle() == "Report kept on this PC: what must happen now"
        assert form.prompts.rows and all(row.tick is None for row in form.prompts.rows.values())
        assert form.prompts.reference.text() == "Reference: given when the report is sent"
        form.prompts.accept()
        qtbot.waitUntil(lambda: window.kept_label.text() == "1 report kept on this PC, waiting for the server",
                        timeout=WAIT)
        assert window.kept_label.isVisibleTo(window)
        qtbot.wait(1000)  # several retries while the server is down: each stops quietly, nothing is lost
        assert window.kept_label.text() == "1 report kept on this PC, waiting for the server"
    finally:
        own_server.resume()
    qtbot.waitUntil(lambda: window.kept_label.text().startswith("Your report kept on this PC has been sent"),
                    timeout=WAIT)
    qtbot.wait(1000)  # more retries: nothing is left to send twice
    sign_in_as, _oak, _location = server_trust
    store, _lead = sign_in_as("lead")
    with unit_of_work(store, write=False) as session:
        sent = session.scalars(select(Incident)).all()
    assert len(sent) == 1 and sent[0].status == "submitted"
    assert window.kept_label.text() == f"Your report kept on this PC has been sent: {sent[0].reference}."
    assert any(message == window.kept_label.text() for _w, message, _urgent in announcements)
    assert form_of(window).send_id is None


def test_the_autosave_keeps_the_form_on_this_pc_while_the_server_is_down(qtbot, controller, own_server):
    from core.services import outbox
    from tests.ui.nurse_helpers import form_of, keyboard_report

    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    form = keyboard_report(qtbot, window, description="Synthetic: half written.", submit=False)
    kept = controller.session.outbox
    form.autosave.setInterval(300)  # the 10-second autosave, quicker for the test
    own_server.pause()
    try:
        form.dirty = True
        qtbot.waitUntil(lambda: form.saved.text().startswith("The server cannot be reached: draft kept on this PC"),
                        timeout=WAIT)
        assert outbox.kept_form(kept).draft.description == "Synthetic: half written."
    finally:
        own_server.resume()
    qtbot.waitUntil(lambda: form.saved.text().startswith("Draft saved at"), timeout=WAIT)
    qtbot.waitUntil(lambda: not form.ctx.runner.busy, timeout=WAIT)
    assert outbox.kept_form(kept) is None  # the server has it now; the copy here is gone
    assert form_of(window).has_content()


def test_another_pcs_report_shows_in_the_managers_open_queue_without_a_key_press(qtbot, controller, server_trust):
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
    store, nurse = sign_in_as("nurse")  # the nurse on another PC
    sent = incidents.submit_report(store, nurse, draft(oak, description="Synthetic: from the ward PC."),
                                   send_id=str(uuid.uuid4()))
    qtbot.waitUntil(lambda: queue.model.rowCount() > 0, timeout=WAIT)  # no key pressed, no refresh asked for
    assert sent.actions and queue.model.rowCount() == len([a for a in sent.actions if a.status == "open"])
    controller.lock()  # the listener stops with the session
    assert controller.live is None


def test_lantern_starts_on_the_server_named_in_the_machine_settings(qtbot, monkeypatch):
    from ui import app as app_module

    url = "postgresql://lantern-db.trust.example/wards"
    settings = paths.machine_settings_path()
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"server_url": url, "server_ca_file": "/etc/lantern/trust-ca.pem"}),
                        encoding="utf-8")
    started = []
    monkeypatch.setattr(app_module, "_run", lambda _app, controller, username="": started.append(controller) or 0)
    assert app_module.run_gui([]) == 0
    assert started[0].folder == url  # no store folder, no first-run wizard
    dialog = started[0].show_sign_in()
    qtbot.addWidget(dialog)
    assert "Server: lantern-db.trust.example, database wards" in labels(dialog)
    dialog.reject()


SHOTS = __import__("os").environ.get("LANTERN_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_the_report_kept_screenshot(qtbot, controller, own_server):
    from pathlib import Path

    from tests.ui.nurse_helpers import keyboard_report
    from ui.pages.incident_form.form import KEPT_ON_THIS_PC

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    form = keyboard_report(qtbot, window, submit=False)
    own_server.pause()
    try:
        qtbot.keyClick(form.summary.submit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: form.banner.text() == KEPT_ON_THIS_PC, timeout=WAIT)
        qtbot.waitUntil(lambda: window.kept_label.isVisibleTo(window), timeout=WAIT)
        qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
        form.prompts.resize(1000, 700)
        qtbot.wait(300)
        form.prompts.grab().save(str(out / "server-unreachable-kept-prompts.png"))
        form.prompts.accept()
        window.resize(1366, 768 - 48)  # a 1366x768 screen less the title bar and taskbar
        qtbot.wait(300)
        window.grab().save(str(out / "server-unreachable-report-kept.png"))
    finally:
        own_server.resume()


def test_a_form_kept_on_this_pc_comes_back_at_the_next_sign_in(qtbot, controller, server_trust):
    from core.dto import FormState
    from core.services import outbox
    from tests.core.helpers_common import draft
    from tests.ui.nurse_helpers import form_of

    _sign_in, oak, location = server_trust
    kept = outbox.open_outbox(location, "nurse", PASSWORDS["nurse"])  # last time, while the server was down
    outbox.keep_form(kept, FormState(draft(oak, description="Synthetic: kept last time."), step=4, time_text=""))
    kept.close()
    window = sign_in(qtbot, controller, "nurse", PASSWORDS["nurse"])
    form = form_of(window)
    qtbot.waitUntil(lambda: form.description.description.toPlainText() == "Synthetic: kept last time.",
                    timeout=WAIT)
    assert form.banner.text().startswith("Your unfinished report is back, as kept on this PC")
    assert form.dirty  # it goes to the server at the next autosave
