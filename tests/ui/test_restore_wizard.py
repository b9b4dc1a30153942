"""The restore wizard, the admin page's backup section and the backup at sign-out, on real encrypted stores."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core import paths
from core.services import accounts, backups, maintenance
from ui.context import AppContext
from ui.dialogs.restore_wizard import RestoreWizard
from ui.pages.admin import AdminPage
from ui.session import Session
from ui.tasks import TaskRunner


@pytest.fixture
def admin_ctx(make_store, tmp_path):
    store, actors, _recovery, _wards = make_store()
    runner = TaskRunner()
    ctx = AppContext(Session(store.folder, store, actors["admin"]), runner)
    yield ctx, store, actors, tmp_path
    runner.wait()


def _backup(store, actors, tmp_path):
    backups.set_backup_settings(store, actors["admin"], folder=str(tmp_path / "backups"), keep=3, warn_days=3)
    assert backups.run_automatic(store, actors["nurse"]) == "written"
    return backups.automatic_backups(tmp_path / "backups", store.slots.store_id)[-1]


def test_admin_page_warns_when_there_is_no_backup_and_saves_settings(admin_ctx, qtbot):
    ctx, store, _actors, tmp_path = admin_ctx
    page = AdminPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.backup_warning.text() != "", timeout=10000)
    assert "no good backup" in page.backup_warning.text() and "Automatic backups are off" in page.backup_warning.text()

    page.backup_folder.setText(str(tmp_path / "ward-backups"))
    page.backup_keep.setValue(7)
    page.backup_warn_days.setValue(2)
    page.backup_when.setCurrentIndex(page.backup_when.findData("daily"))
    qtbot.mouseClick(page.save_backups_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Backup settings saved" in page.message.text(), timeout=10000)
    assert backups.get_backup_settings(store) == backups.BackupSettings(
        str((tmp_path / "ward-backups").resolve()), 7, 2, "daily")
    qtbot.waitUntil(lambda: "Automatic backups are off" not in page.backup_warning.text(), timeout=10000)


def test_a_backup_folder_inside_the_store_gets_a_plain_message(admin_ctx, qtbot, monkeypatch):
    ctx, store, _actors, _tmp = admin_ctx
    shown = []
    monkeypatch.setattr("ui.context.show_error", lambda parent, err: shown.append(str(err)))
    page = AdminPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.backup_warning.text() != "", timeout=10000)
    page.backup_folder.setText(str(store.folder / "backups"))
    qtbot.mouseClick(page.save_backups_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown[0].startswith("Keep backups outside the store folder")


def test_the_wizard_checks_restores_and_switches_the_store(admin_ctx, qtbot, password):
    ctx, store, actors, tmp_path = admin_ctx
    made = _backup(store, actors, tmp_path)
    wizard = RestoreWizard(ctx, store.slots.store_id, str(made.parent))
    qtbot.addWidget(wizard)
    wizard.show()
    assert not wizard.button(RestoreWizard.WizardButton.NextButton).isEnabled()  # nothing chosen yet
    wizard.choose_page.path.setText(str(made))
    wizard.next()
    assert wizard.currentPage() is wizard.checked_page
    assert "backup of <b>this</b> store" in wizard.checked_page.summary.text()
    wizard.next()
    wizard.folder_page.path.setText(str(tmp_path / "restored"))
    assert wizard.button(RestoreWizard.WizardButton.NextButton).text() == "&Restore"
    wizard.next()
    qtbot.waitUntil(lambda: wizard.restore_page.done, timeout=20000)
    assert "Every page was checked" in wizard.restore_page.result.text()
    with qtbot.waitSignal(wizard.switched, timeout=10000):
        wizard.accept()
    assert paths.configured_store() == (tmp_path / "restored").resolve()
    restored, admin = accounts.sign_in(tmp_path / "restored", "admin", password)
    try:
        assert all(r.ok for r in maintenance.check_store(restored, admin))
    finally:
        restored.close()


def test_the_wizard_refuses_a_damaged_file_and_a_folder_in_use(admin_ctx, qtbot):
    ctx, store, actors, tmp_path = admin_ctx
    bad = tmp_path / "bad.lantern"
    bad.write_bytes(b"not a backup")
    wizard = RestoreWizard(ctx, store.slots.store_id)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.choose_page.path.setText(str(bad))
    wizard.next()
    assert wizard.currentPage() is wizard.choose_page
    assert wizard.choose_page.problem.text() == "That backup file is damaged or is not a Lantern backup."

    wizard.choose_page.path.setText(str(_backup(store, actors, tmp_path)))
    wizard.next()
    wizard.next()
    wizard.folder_page.path.setText(str(store.folder))
    wizard.next()
    assert wizard.currentPage() is wizard.folder_page
    assert "is not an empty folder" in wizard.folder_page.problem.text()


def test_a_failed_restore_says_why_and_lets_the_administrator_go_back(admin_ctx, qtbot, monkeypatch):
    from core.errors import StorageFailure

    ctx, store, actors, tmp_path = admin_ctx
    made = _backup(store, actors, tmp_path)

    def full_disk(*_args):
        raise StorageFailure("The disk is full. Free some space and try again.")

    monkeypatch.setattr(backups, "restore_backup", full_disk)
    wizard = RestoreWizard(ctx, store.slots.store_id)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.choose_page.path.setText(str(made))
    wizard.next()
    wizard.next()
    wizard.folder_page.path.setText(str(tmp_path / "restored"))
    wizard.next()
    qtbot.waitUntil(lambda: "disk is full" in wizard.restore_page.result.text(), timeout=10000)
    assert not wizard.restore_page.done and "Nothing was changed" in wizard.restore_page.result.text()
    back = wizard.button(RestoreWizard.WizardButton.BackButton)
    assert back.isVisible() and back.isEnabled()
    wizard.back()
    assert wizard.currentPage() is wizard.folder_page


def test_sign_out_makes_the_automatic_backup_but_lock_does_not(make_store, tmp_path, qtbot, password):
    from ui.app import AppController

    store, actors, _recovery, _wards = make_store()
    backups.set_backup_settings(store, actors["admin"], folder=str(tmp_path / "backups"), keep=3, warn_days=3)
    folder = store.folder
    store.close()
    controller = AppController(folder)
    for how, expected in (("lock", 0), ("sign_out", 1)):
        signed, nurse = accounts.sign_in(folder, "nurse", password)
        controller.session = Session(folder, signed, nurse)
        controller._close_session(how)
        assert not signed.is_open
        assert len(backups.automatic_backups(tmp_path / "backups", signed.slots.store_id)) == expected
