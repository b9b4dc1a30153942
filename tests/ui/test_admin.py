"""The administrator's page, driven through real widgets on a real encrypted store."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.services import accounts
from ui.context import AppContext
from ui.pages import access_requests
from ui.pages.admin import AdminPage, UsersModel
from ui.pages.home import HomePage
from ui.session import Session
from ui.tasks import TaskRunner


@pytest.fixture
def admin_page(qtbot, make_store):
    store, actors, _recovery, _wards = make_store()
    runner = TaskRunner()
    ctx = AppContext(Session(store.folder, store, actors["admin"]), runner)
    page = AdminPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() == 6, timeout=10000)
    yield page, store, actors
    runner.wait()


def test_users_model_without_a_view(make_store, qtmodeltester):
    store, actors, _recovery, _wards = make_store()
    model = UsersModel()
    model.set_rows(accounts.list_users(store, actors["admin"]), accounts.list_wards(store, actors["admin"]))
    assert model.rowCount() == 6
    usernames = [model.index(r, UsersModel.COL_USERNAME).data() for r in range(model.rowCount())]
    assert usernames == sorted(usernames)
    lead_row = usernames.index("lead")
    assert model.index(lead_row, UsersModel.COL_WARDS).data() == "All wards"
    qtmodeltester.check(model)


def test_a_new_nurse_waits_for_the_lead_who_is_shown_the_password_that_signs_in(admin_page, qtbot, monkeypatch):
    """Separation of duties (issue 13 item 1): the administrator is never shown a usable password for an account
    that reads incidents; the lead approves it on Home and is shown the temporary password, once."""
    page, store, actors = admin_page
    from ui.pages import admin as admin_module

    def fake_exec(dialog):
        dialog.username.setText("newnurse")
        dialog.role.setCurrentIndex(dialog.role.findData("nurse"))
        dialog.wards.item(0).setCheckState(Qt.CheckState.Checked)
        return True

    monkeypatch.setattr(admin_module.AccountDialog, "exec", fake_exec)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "waiting for the safeguarding lead" in page.message.text(), timeout=10000)
    assert "password:" not in page.message.text().lower()
    qtbot.waitUntil(lambda: page.model.rowCount() == 7, timeout=10000)
    row = [page.model.user_at(r).username for r in range(page.model.rowCount())].index("newnurse")
    assert page.model.index(row, UsersModel.COL_STATUS).data() == "Waiting for approval by the safeguarding lead"

    lead_ctx = AppContext(Session(store.folder, store, actors["lead"]), page.ctx.runner)
    home = HomePage(lead_ctx)
    qtbot.addWidget(home)
    box = home.access_requests
    qtbot.waitUntil(lambda: box.approve_button.isEnabled(), timeout=10000)
    assert "newnurse: a new account as Nurse, asked by admin on " in box.list.item(0).text()
    assert not box.approve_button.isDefault() and not box.refuse_button.isDefault()
    assert not box.approve_button.autoDefault() and not box.refuse_button.autoDefault()
    monkeypatch.setattr(access_requests.QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    box.list.setCurrentRow(0)
    qtbot.mouseClick(box.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Temporary password for newnurse" in box.message.text(), timeout=10000)
    temporary = box.message.text().split("Temporary password for newnurse: ")[1].split()[0]
    qtbot.waitUntil(lambda: box.list.item(0).text() == "No requests are waiting.", timeout=10000)
    signed, actor = accounts.sign_in(store.folder, "newnurse", temporary)
    signed.close()
    assert actor.must_change_password and actor.role == "nurse"


def test_an_administrator_account_still_gets_its_temporary_password(admin_page, qtbot, monkeypatch):
    page, store, _actors = admin_page
    from ui.pages import admin as admin_module

    def fake_exec(dialog):
        dialog.username.setText("second.admin")
        dialog.role.setCurrentIndex(dialog.role.findData("administrator"))
        return True

    monkeypatch.setattr(admin_module.AccountDialog, "exec", fake_exec)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Temporary password" in page.message.text(), timeout=10000)
    temporary = page.message.text().split("Temporary password: ")[1].split()[0]
    signed, actor = accounts.sign_in(store.folder, "second.admin", temporary)
    signed.close()
    assert actor.must_change_password and actor.role == "administrator"


def test_keyboard_change_role_and_lock_minutes(admin_page, qtbot):
    page, store, actors = admin_page
    page.table.setFocus()
    row = [page.model.user_at(r).username for r in range(page.model.rowCount())].index("nurse2")
    page.table.selectRow(row)
    page.role_box.setCurrentIndex(page.role_box.findData("ward_manager"))
    page.role_button.setFocus()
    qtbot.keyClick(page.role_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "Ward manager is waiting" in page.message.text(), timeout=10000)
    nurse2 = {u.username: u for u in accounts.list_users(store, actors["admin"])}["nurse2"]
    assert nurse2.role == "nurse" and nurse2.access_pending  # raised once the lead approves

    page.lock_minutes.setFocus()
    page.lock_minutes.selectAll()
    qtbot.keyClicks(page.lock_minutes, "9")
    qtbot.keyClick(page.save_lock_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "9 minutes" in page.message.text(), timeout=10000)
    from core.services import settings

    assert settings.lock_minutes(store) == 9


def test_actions_without_a_selection_say_so(admin_page, qtbot):
    page, _store, _actors = admin_page
    page.table.clearSelection()
    qtbot.mouseClick(page.reset_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Select an account in the table first."


def test_bad_ward_name_gets_a_plain_message(admin_page, qtbot, monkeypatch, password):
    page, _store, _actors = admin_page
    shown = []
    monkeypatch.setattr("ui.context.show_error", lambda parent, err: shown.append(str(err)))
    page.new_ward.setText("Oak Ward")
    qtbot.mouseClick(page.add_ward_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown == ["There is already a ward called Oak Ward."]
    assert password not in shown[0]


# ----- screenshots for docs/ -------------------------------------------------------------------------------

SHOTS = __import__("os").environ.get("LANTERN_SCREENSHOTS")


@pytest.mark.skipif(not SHOTS, reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_access_request_screenshots(admin_page, qtbot):
    from pathlib import Path

    page, store, actors = admin_page
    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    oak = accounts.list_wards(store, actors["admin"])[0].ward_id
    accounts.create_user(store, actors["admin"], username="new.nurse", role="nurse", ward_ids=[oak])
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 7, timeout=10000)
    page.resize(1100, 700)
    page.show()
    qtbot.wait(200)
    page.grab().save(str(out / "admin-waiting-for-approval.png"))

    lead_ctx = AppContext(Session(store.folder, store, actors["lead"]), page.ctx.runner)
    home = HomePage(lead_ctx)
    qtbot.addWidget(home)
    home.resize(1100, 700)
    home.show()
    box = home.access_requests
    qtbot.waitUntil(lambda: box.approve_button.isEnabled(), timeout=10000)
    box.list.setCurrentRow(0)
    box.list.setFocus()
    qtbot.wait(200)
    home.grab().save(str(out / "lead-access-requests.png"))
