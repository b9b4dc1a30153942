"""The administrator's page, driven through real widgets on a real encrypted store."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.services import accounts
from tests.conftest import PASSWORD
from ui.admin import AdminPage, UsersModel
from ui.context import AppContext
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


def test_add_account_shows_a_temporary_password_that_signs_in(admin_page, qtbot, monkeypatch):
    page, store, _actors = admin_page
    from ui import admin as admin_module

    def fake_exec(dialog):
        dialog.username.setText("newnurse")
        dialog.role.setCurrentIndex(dialog.role.findData("nurse"))
        dialog.wards.item(0).setCheckState(Qt.CheckState.Checked)
        return True

    monkeypatch.setattr(admin_module.AccountDialog, "exec", fake_exec)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Temporary password" in page.message.text(), timeout=10000)
    temporary = page.message.text().split("Temporary password: ")[1].split()[0]
    qtbot.waitUntil(lambda: page.model.rowCount() == 7, timeout=10000)
    signed, actor = accounts.sign_in(store.folder, "newnurse", temporary)
    signed.close()
    assert actor.must_change_password and actor.role == "nurse"


def test_keyboard_change_role_and_lock_minutes(admin_page, qtbot):
    page, store, actors = admin_page
    page.table.setFocus()
    row = [page.model.user_at(r).username for r in range(page.model.rowCount())].index("nurse2")
    page.table.selectRow(row)
    page.role_box.setCurrentIndex(page.role_box.findData("ward_manager"))
    page.role_button.setFocus()
    qtbot.keyClick(page.role_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "Ward manager" in page.message.text(), timeout=10000)
    assert {u.username: u.role for u in accounts.list_users(store, actors["admin"])}["nurse2"] == "ward_manager"

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


def test_bad_ward_name_gets_a_plain_message(admin_page, qtbot, monkeypatch):
    page, _store, _actors = admin_page
    shown = []
    monkeypatch.setattr("ui.context.show_error", lambda parent, err: shown.append(str(err)))
    page.new_ward.setText("Oak Ward")
    qtbot.mouseClick(page.add_ward_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown == ["There is already a ward called Oak Ward."]
    assert PASSWORD not in shown[0]
