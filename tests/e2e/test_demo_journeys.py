"""End to end from where a new user starts: the README's `python3 bootstrap.py run` opens the built-in demo store
(`core.demo.seed.create_or_fill_demo` with `paths.DEMO_INCIDENTS` incidents and `paths.DEMO_PASSWORD`), and
every role signs in through the real sign-in window. Issue 11: a journey that passes on a hand-built store but
not on the demo store is not a journey test.

- the nurse reports a new incident by keyboard and reads its prompts;
- the ward manager finds it in the action queue and completes an action with a note and a reference, by keyboard
  (the dialog opens with focus in the note, so typing never presses OK);
- the safeguarding lead opens a restricted record and sees the opening logged;
- the administrator sees no incident content at all.

Synthetic data only (the demo store's made-up incidents).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from core import paths
from core.clock import utcnow
from core.errors import NotFound, PermissionDenied
from core.services import accounts, incidents, review
from core.services.review import IncidentQuery
from tests.ui.manager_helpers import modal
from tests.ui.nurse_helpers import WAIT, alt, focused, keyboard_report, press, sign_in, type_text
from ui.app import AppController
from ui.dialogs.actions import CompleteDialog
from ui.dialogs.incident import ViewLogDialog
from ui.models.manager import IncidentListModel, QueueModel, ViewLogModel
from ui.pages.action_queue import ActionQueuePage
from ui.pages.review import ReviewPage

DEMO = paths.DEMO_PASSWORD
NOTE = "Spoke with the affected member of staff, offered support and updated the patient's care plan."


@pytest.fixture(autouse=True)
def _modal_watchdog():
    """A dialog nobody answers would hang the run: after two minutes, close any modal dialog so the test fails."""
    def close_modals():
        while (widget := QApplication.activeModalWidget()) is not None:
            widget.close()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(close_modals)
    timer.start(120_000)
    yield
    timer.stop()


def column(model, col: int) -> list[str]:
    return [model.index(r, col).data() for r in range(model.rowCount())]


def open_tab(qtbot, window, cls):
    page = window.page(cls)
    assert page is not None, f"no {cls.__name__} for this role"
    window.tabs.setCurrentWidget(page)
    return page


def report_as_nurse(qtbot, folder):
    """The nurse's journey: sign in, report by keyboard alone, read the prompts. Returns the sent incident."""
    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "nurse", DEMO)
        form = keyboard_report(qtbot, window)                                    # Ctrl+N … Ctrl+Enter
        qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
        prompts = form.prompts
        detail = prompts.detail
        assert detail.status == "submitted"
        assert detail.reference == f"LAN-{utcnow().year}-00001"  # the first real number beside the demo's D-numbers
        assert detail.actions and set(prompts.rows) == {a.action_id for a in detail.actions}  # every step shown
        alt(qtbot, Qt.Key.Key_F)                                                 # Finish
        assert not prompts.isVisible()
    finally:
        controller.shutdown()
    return detail


def test_a_nurse_reports_by_keyboard_on_the_built_in_demo_store(qtbot, demo_store_folder):
    detail = report_as_nurse(qtbot, demo_store_folder)
    store, nurse = accounts.sign_in(demo_store_folder, "nurse", DEMO)
    try:
        mine = {i.reference: i for i in incidents.list_my_incidents(store, nurse)}
        assert mine[detail.reference].status == "submitted"
    finally:
        store.close()


def test_the_manager_completes_the_new_reports_action_from_the_queue_by_keyboard(qtbot, demo_store_folder):
    detail = report_as_nurse(qtbot, demo_store_folder)
    target = next(a for a in detail.actions if a.status == "open")

    controller = AppController(demo_store_folder)
    try:
        window = sign_in(qtbot, controller, "manager", DEMO)
        page = open_tab(qtbot, window, ActionQueuePage)
        model = page.model

        def row_of_target():  # scroll down (fetch more) as a person would until the row is there
            if not model.fetching and model.canFetchMore():
                model.fetchMore()
            ids = [r.action_id for r in model.rows]
            return ids.index(target.action_id) if target.action_id in ids else None

        qtbot.waitUntil(lambda: row_of_target() is not None, timeout=WAIT)
        row = row_of_target()
        assert model.index(row, QueueModel.COL_INCIDENT).data().startswith(detail.reference)
        page.table.setFocus()
        page.table.selectRow(row)
        press(qtbot, Qt.Key.Key_Return)                                          # open the action
        dialog = modal(qtbot, CompleteDialog)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                        and QApplication.focusWidget().window() is dialog, timeout=WAIT)
        assert focused() is dialog.note                                          # typing goes into the note
        shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
        assert detail.reference in shown                                         # the dialog names the incident
        type_text(qtbot, NOTE)                                                   # spaces never press OK
        assert dialog.isVisible()
        press(qtbot, Qt.Key.Key_Tab)
        assert focused() is dialog.reference
        type_text(qtbot, "LA-2026-0042")
        press(qtbot, Qt.Key.Key_Return)                                          # now OK
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
        qtbot.waitUntil(lambda: target.action_id not in [r.action_id for r in model.rows], timeout=WAIT)
    finally:
        controller.shutdown()

    store, manager = accounts.sign_in(demo_store_folder, "manager", DEMO)
    try:
        done = next(a for a in incidents.get_incident(store, manager, detail.incident_id).actions
                    if a.action_id == target.action_id)
        assert (done.status, done.note, done.reference) == ("done", NOTE, "LA-2026-0042")
    finally:
        store.close()


def test_the_lead_opens_a_restricted_demo_record_and_sees_the_opening_logged(qtbot, demo_store_folder):
    controller = AppController(demo_store_folder)
    try:
        window = sign_in(qtbot, controller, "lead", DEMO)
        page = open_tab(qtbot, window, ReviewPage)
        page.restricted_only.setFocus()
        press(qtbot, Qt.Key.Key_Space)                                           # Restricted only
        listed = page.list_model
        qtbot.waitUntil(lambda: not listed.fetching and listed.rowCount() > 0, timeout=WAIT)
        assert all("Restricted" in a for a in column(listed, IncidentListModel.COL_ATTENTION)), \
            "the demo store must hold restricted records (staff named as alleged perpetrator)"
        reference = listed.index(0, IncidentListModel.COL_REFERENCE).data()
        page.list.setFocus()
        page.list.selectRow(0)
        press(qtbot, Qt.Key.Key_Return)                                          # open it by keyboard
        qtbot.waitUntil(lambda: page.detail is not None and page.detail.reference == reference, timeout=WAIT)
        assert page.detail.restricted and "RESTRICTED" in page.title.text()
        qtbot.mouseClick(page.view_log_button, Qt.MouseButton.LeftButton)
        log = modal(qtbot, ViewLogDialog)
        qtbot.waitUntil(lambda: log.model.rowCount() > 0, timeout=WAIT)
        assert (column(log.model, ViewLogModel.COL_WHO)[0], column(log.model, ViewLogModel.COL_INCIDENT)[0]) == \
            ("lead", reference)
        log.reject()
    finally:
        controller.shutdown()


def test_the_administrator_sees_no_incident_content_on_the_demo_store(qtbot, demo_store_folder):
    controller = AppController(demo_store_folder)
    try:
        window = sign_in(qtbot, controller, "admin", DEMO)
        titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
        assert not {"Review", "Actions", "Dashboard", "My incidents", "Report"} & set(titles), titles
        assert window.page(ReviewPage) is None and window.page(ActionQueuePage) is None
    finally:
        controller.shutdown()

    store, admin = accounts.sign_in(demo_store_folder, "admin", DEMO)
    lead_store, lead = accounts.sign_in(demo_store_folder, "lead", DEMO)
    try:
        some = review.list_incidents(lead_store, lead, IncidentQuery(status=None)).rows[0]
        with pytest.raises((PermissionDenied, NotFound)):
            incidents.get_incident(store, admin, some.incident_id)
        with pytest.raises((PermissionDenied, NotFound)):
            review.list_incidents(store, admin, IncidentQuery(status=None))
    finally:
        store.close()
        lead_store.close()


# ----- a store made by the README's `init`, accounts added through the admin screen ----------------------------

def drive_next(cls, act) -> list:
    """When the next modal dialog of `cls` opens (run with exec), let `act` use it by keyboard. Returns a list that
    receives the dialog, so the test can check that it appeared."""
    seen: list = []

    def attempt():
        widget = QApplication.activeModalWidget()
        if isinstance(widget, cls) and widget.isVisible():
            seen.append(widget)
            act(widget)
        else:
            QTimer.singleShot(50, attempt)

    QTimer.singleShot(50, attempt)
    return seen


def test_a_store_made_by_init_with_a_nurse_added_through_the_admin_screen(qtbot, tmp_path, password):
    from tests.core.helpers_common import PY, REPO, python_env
    from ui.dialogs.signin import ChangePasswordDialog
    from ui.pages.admin import AccountDialog, AdminPage

    folder = tmp_path / "ward-store"
    made = subprocess.run([PY, str(REPO / "main.py"), "init", "--store", str(folder), "--org", "RXX",
                           "--ward", "Oak Ward", "--admin", "admin", "--password-stdin"],
                          input=password + "\n", capture_output=True, text=True, env=python_env(), timeout=180)
    assert made.returncode == 0, made.stderr

    # 1. The administrator adds a nurse on Oak Ward through the admin screen, by keyboard.
    def fill_account(dialog):
        QTest.keyClicks(dialog.username, "nurse.one")
        index = dialog.role.findData("nurse")
        dialog.role.setFocus()
        dialog.role.setCurrentIndex(index)
        dialog.wards.setFocus()
        dialog.wards.setCurrentRow(0)
        QTest.keyClick(dialog.wards, Qt.Key.Key_Space)                          # tick Oak Ward
        QTest.keyClick(dialog.username, Qt.Key.Key_Return)

    controller = AppController(folder)
    try:
        window = sign_in(qtbot, controller, "admin", password)
        page = open_tab(qtbot, window, AdminPage)
        qtbot.waitUntil(lambda: bool(page.wards), timeout=WAIT)
        seen = drive_next(AccountDialog, fill_account)
        page.add_button.setFocus()
        press(qtbot, Qt.Key.Key_Space)                                           # Add account…
        assert seen
        qtbot.waitUntil(lambda: "waiting for the safeguarding lead" in page.message.text(), timeout=WAIT)
        assert "Temporary password" not in page.message.text()  # the administrator never sees one
        request = re.search(r"Request (\d+) is waiting", page.message.text()).group(1)
    finally:
        controller.shutdown()

    # 1b. No safeguarding lead yet: the recovery key holder approves with the key `init` printed, and is the one
    #     shown the temporary password (separation of duties, issue 13 item 1).
    recovery_key = re.search(r"^\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4})+)\s*$", made.stdout, re.MULTILINE).group(1)
    approved = subprocess.run([PY, str(REPO / "main.py"), "approve", "--store", str(folder), "--request", request],
                              input=recovery_key + "\n", capture_output=True, text=True, env=python_env(),
                              timeout=180)
    assert approved.returncode == 0, approved.stderr
    temporary = re.search(r"Temporary password: (\S+)", approved.stdout).group(1)

    # 2. The nurse signs in with the temporary password, must choose their own, then reports by keyboard.
    chosen = "nurse one's own passphrase 7"

    def change(dialog):
        QTest.keyClicks(dialog.old, temporary)
        QTest.keyClicks(dialog.new, chosen)
        QTest.keyClicks(dialog.again, chosen)
        QTest.keyClick(dialog.again, Qt.Key.Key_Return)

    controller = AppController(folder)
    try:
        asked = drive_next(ChangePasswordDialog, change)
        window = sign_in(qtbot, controller, "nurse.one", temporary)
        assert asked
        form = keyboard_report(qtbot, window)
        qtbot.waitUntil(lambda: form.prompts is not None and form.prompts.isVisible(), timeout=WAIT)
        assert form.prompts.detail.status == "submitted"
        assert form.prompts.detail.reference == f"LAN-{utcnow().year}-00001"
        alt(qtbot, Qt.Key.Key_F)
    finally:
        controller.shutdown()

    store, nurse = accounts.sign_in(folder, "nurse.one", chosen)
    store.close()
    assert not nurse.must_change_password
