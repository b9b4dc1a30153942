"""The administrator's page (ui layer): accounts, wards, the lock timeout and backups. No incident content."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.dto import UserInfo, WardInfo
from core.security.permissions import ROLE_LABELS, ROLES
from core.services import accounts, admin_overview, backups, maintenance
from core.services import settings as store_settings
from ui.context import AppContext
from ui.models.base import RowsModel
from ui.session import SERVER_CHECKS
from ui.widgets.a11y import LiveLabel, reflow_layout

WAITING_TEXT = ("waiting for the safeguarding lead to approve it; until then the account cannot sign in. The lead "
                "is shown its temporary password to pass on.")


def _created_text(new) -> str:
    if new.request_id is not None:
        return f"Account {new.user.username} created. Request {new.request_id} is {WAITING_TEXT}"
    return (f"Account {new.user.username} created. Temporary password: {new.temporary_password}  (give it to "
            "them privately; it is shown only now).")


class UsersModel(RowsModel):
    COL_USERNAME, COL_ROLE, COL_WARDS, COL_STATUS = range(4)
    HEADERS = ("Username", "Role", "Wards", "Status")

    def __init__(self):
        super().__init__()
        self.ward_names: dict[int, str] = {}

    def set_rows(self, rows: list[UserInfo], wards: list[WardInfo]) -> None:
        self.ward_names = {w.ward_id: w.name for w in wards}
        super().set_rows(rows)

    def text(self, user: UserInfo, column: int) -> str:
        if column == self.COL_USERNAME:
            return user.username
        if column == self.COL_ROLE:
            return ROLE_LABELS[user.role]
        if column == self.COL_WARDS:
            if user.role == "safeguarding_lead":
                return "All wards"
            return ", ".join(self.ward_names.get(w, "?") for w in user.ward_ids) or "None"
        if not user.active:
            return "Switched off"
        if user.access_pending:
            return "Waiting for approval by the safeguarding lead"
        return "Must change password" if user.must_change_password else "Active"

    def user_at(self, row: int) -> UserInfo:
        return self.rows[row]


class AccountDialog(QDialog):
    """Collects a new account's username, role and wards. The caller creates it."""

    def __init__(self, wards: list[WardInfo], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add an account")
        layout = QFormLayout(self)
        self.username = QLineEdit()
        self.username.setAccessibleName("Username")
        self.role = QComboBox()
        self.role.setAccessibleName("Role")
        for role in ROLES:
            self.role.addItem(ROLE_LABELS[role], role)
        self.wards = QListWidget()
        self.wards.setAccessibleName("Wards")
        for ward in wards:
            self.wards.addItem(ward.name)
            item = self.wards.item(self.wards.count() - 1)
            item.setData(Qt.ItemDataRole.UserRole, ward.ward_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        layout.addRow("&Username", self.username)
        layout.addRow("&Role", self.role)
        layout.addRow("&Wards", self.wards)
        note = QLabel("Lantern makes a temporary password; the person must change it when they first sign in. "
                      "A nurse, ward manager or safeguarding lead can read incidents, so their account waits for "
                      "the safeguarding lead to approve it, and the lead is given the password to pass on.")
        note.setWordWrap(True)
        layout.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def values(self) -> dict:
        ward_ids = [self.wards.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.wards.count())
                    if self.wards.item(i).checkState() == Qt.CheckState.Checked]
        return {"username": self.username.text(), "role": self.role.currentData(), "ward_ids": ward_ids}


class AdminPage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.wards: list[WardInfo] = []
        self.store_id = ""
        layout = reflow_layout(self)
        intro = QLabel("<h2>Administration</h2>Accounts, wards, the lock timeout and backups. Administrators "
                       "cannot see incident content.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        for box in (self._accounts_box(), self._wards_box(), self._lock_box(), self._backup_box()):
            layout.addWidget(box)
        if ctx.session.on_server:  # backups, restores and checks of the trust's server are IT's, not this PC's
            self.backup_box.hide()
            self.server_note = QLabel(SERVER_CHECKS)
            self.server_note.setWordWrap(True)
            layout.addWidget(self.server_note)
        self.message = LiveLabel("Administration message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        layout.addStretch(1)
        for button, slot in ((self.add_button, self.on_add_clicked), (self.reset_button, self.on_reset_clicked),
                             (self.role_button, self.on_role_clicked), (self.off_button, self.on_off_clicked),
                             (self.add_ward_button, self.on_add_ward_clicked),
                             (self.save_lock_button, self.on_save_lock_clicked),
                             (self.backup_button, self.on_backup_clicked),
                             (self.backup_browse_button, self.on_backup_browse_clicked),
                             (self.save_backups_button, self.on_save_backups_clicked),
                             (self.restore_button, self.on_restore_clicked)):
            button.clicked.connect(slot)
        self.refresh()

    # ----- building ---------------------------------------------------------------
    def _accounts_box(self) -> QGroupBox:
        """The accounts table and what can be done to the selected account."""
        box = QGroupBox("Accounts")
        box_layout = QVBoxLayout(box)
        self.model = UsersModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Accounts")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; the arrow keys move inside it
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        box_layout.addWidget(self.table)
        row = QHBoxLayout()
        self.add_button = QPushButton("&Add account…")
        self.reset_button = QPushButton("&Reset password")
        self.role_box = QComboBox()
        self.role_box.setAccessibleName("New role for the selected account")
        for role in ROLES:
            self.role_box.addItem(ROLE_LABELS[role], role)
        self.role_button = QPushButton("Change r&ole")
        self.off_button = QPushButton("Swi&tch off")
        for widget in (self.add_button, self.reset_button, self.role_box, self.role_button, self.off_button):
            row.addWidget(widget)
        row.addStretch(1)
        box_layout.addLayout(row)
        return box

    def _wards_box(self) -> QGroupBox:
        """The wards there are, and a new one."""
        box = QGroupBox("Wards")
        wards_layout = QHBoxLayout(box)
        self.ward_list = QLabel("")
        self.ward_list.setWordWrap(True)
        self.new_ward = QLineEdit()
        self.new_ward.setPlaceholderText("New ward name")
        self.new_ward.setAccessibleName("New ward name")
        self.ward_sex = QComboBox()
        self.ward_sex.setAccessibleName("Ward sex designation")
        for value, label in (("mixed", "Mixed"), ("female", "Female only"), ("male", "Male only")):
            self.ward_sex.addItem(label, value)
        self.add_ward_button = QPushButton("Add &ward")
        for widget in (self.ward_list, self.new_ward, self.ward_sex, self.add_ward_button):
            wards_layout.addWidget(widget)
        return box

    def _lock_box(self) -> QGroupBox:
        """The lock timeout."""
        box = QGroupBox("Lock")
        settings_layout = QHBoxLayout(box)
        settings_layout.addWidget(QLabel("Lock after"))
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(*store_settings.LOCK_RANGE)
        self.lock_minutes.setSuffix(" minutes without use")
        self.lock_minutes.setAccessibleName("Lock after minutes without use")
        self.save_lock_button = QPushButton("&Save")
        for widget in (self.lock_minutes, self.save_lock_button):
            settings_layout.addWidget(widget)
        settings_layout.addStretch(1)
        return box

    def _backup_box(self) -> QGroupBox:
        box = self.backup_box = QGroupBox("Backups")
        form = QFormLayout(box)
        self.backup_status = LiveLabel("Backup status")
        self.backup_status.setWordWrap(True)
        self.backup_warning = LiveLabel("Backup warning")
        self.backup_warning.setObjectName("error")
        self.backup_warning.setWordWrap(True)
        self.backup_folder = QLineEdit()
        self.backup_folder.setAccessibleName("Backup folder")
        self.backup_folder.setPlaceholderText("Empty: automatic backups are off")
        self.backup_browse_button = QPushButton("Brows&e…")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.backup_folder, 1)
        folder_row.addWidget(self.backup_browse_button)
        self.backup_when = QComboBox()
        self.backup_when.setAccessibleName("When automatic backups are made")
        for value, label in backups.WHEN_CHOICES.items():
            self.backup_when.addItem(label, value)
        self.backup_keep = QSpinBox()
        self.backup_keep.setRange(*backups.KEEP_RANGE)
        self.backup_keep.setSuffix(" automatic backups")
        self.backup_keep.setAccessibleName("Number of automatic backups to keep")
        self.backup_warn_days = QSpinBox()
        self.backup_warn_days.setRange(*backups.WARN_RANGE)
        self.backup_warn_days.setSuffix(" days")
        self.backup_warn_days.setAccessibleName("Warn when the last good backup is older than this many days")
        self.save_backups_button = QPushButton("Save backup settings")
        self.backup_button = QPushButton("Make a &backup now…")
        self.restore_button = QPushButton("Restore a backu&p…")
        buttons = QHBoxLayout()
        for button in (self.save_backups_button, self.backup_button, self.restore_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        form.addRow(self.backup_status)
        form.addRow(self.backup_warning)
        folder_label = QLabel("Backup &folder")
        folder_label.setBuddy(self.backup_folder)
        form.addRow(folder_label, folder_row)
        for field in (self.backup_when, self.backup_keep, self.backup_warn_days):
            field.setMaximumWidth(360)
        form.addRow("Make the&m", self.backup_when)
        form.addRow("&Keep the last", self.backup_keep)
        form.addRow("Warn when the last good\nbackup is older than", self.backup_warn_days)
        form.addRow(buttons)
        return box

    # ----- data ---------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.call(admin_overview.admin_overview, self._loaded, parent=self, read=True)

    def _loaded(self, overview: admin_overview.AdminOverview) -> None:
        self.wards = list(overview.wards)
        self.model.set_rows(list(overview.users), self.wards)
        self.table.resizeColumnsToContents()
        self.ward_list.setText("Wards: " + ", ".join(w.name for w in self.wards))
        self.lock_minutes.setValue(overview.lock_minutes)
        self._show_backup_status(overview.backups)

    def _show_backup_status(self, status: backups.BackupStatus) -> None:
        settings = status.settings
        self.store_id = status.store_id
        self.backup_folder.setText(settings.folder)
        self.backup_when.setCurrentIndex(max(0, self.backup_when.findData(settings.when)))
        self.backup_keep.setValue(settings.keep)
        self.backup_warn_days.setValue(settings.warn_days)
        self.backup_status.setVisible(status.last_good_at is not None)
        self.backup_status.setText(status.last_good_text if status.last_good_at else "")
        self.backup_warning.setVisible(bool(status.warning))
        self.backup_warning.setText(status.warning)

    def _selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select an account in the table first.")
            return None
        return self.model.user_at(rows[0].row())

    def _done(self, text: str):
        def handler(_result=None):
            self.message.setText(text if not callable(text) else text(_result))
            self.refresh()
        return handler

    # ----- handlers -----------------------------------------------------------
    def on_add_clicked(self) -> None:
        dialog = AccountDialog(self.wards, self)
        if not dialog.exec():
            return
        values = dialog.values()
        self.ctx.call(lambda store, actor: accounts.create_user(store, actor, **values),
                      self._done(_created_text), parent=self)

    def on_reset_clicked(self) -> None:
        user = self._selected()
        if user:
            self.ctx.call(lambda store, actor: accounts.reset_password(store, actor, user.user_id),
                          self._done(lambda temp: f"New temporary password for {user.username}: {temp}  "
                                                  "(shown only now)." if temp else
                                     f"The reset of {user.username}'s password is {WAITING_TEXT}"), parent=self)

    def on_role_clicked(self) -> None:
        user = self._selected()
        if user:
            role = self.role_box.currentData()
            self.ctx.call(lambda store, actor: accounts.set_role(store, actor, user.user_id, role),
                          self._done(lambda info: f"{user.username} as {ROLE_LABELS[role]} is {WAITING_TEXT}"
                                     if info.access_pending else f"{user.username} is now: {ROLE_LABELS[role]}."),
                          parent=self)

    def on_off_clicked(self) -> None:
        user = self._selected()
        if not user:
            return
        answer = QMessageBox.question(self, "Switch off account", f"Switch off {user.username}? Their password "
                                      "will stop opening the store. Their records stay.")
        if answer == QMessageBox.StandardButton.Yes:
            self.ctx.call(lambda store, actor: accounts.deactivate_user(store, actor, user.user_id),
                          self._done(f"{user.username} is switched off."), parent=self)

    def on_add_ward_clicked(self) -> None:
        name, sex = self.new_ward.text(), self.ward_sex.currentData()
        self.ctx.call(lambda store, actor: accounts.create_ward(store, actor, name, sex_designation=sex),
                      self._done(f"Ward {name.strip()} added."), parent=self)
        self.new_ward.clear()

    def on_save_lock_clicked(self) -> None:
        minutes = self.lock_minutes.value()
        self.ctx.call(lambda store, actor: store_settings.set_lock_minutes(store, actor, minutes),
                      self._done(f"Lantern will lock after {minutes} minutes without use (from the next sign-in)."),
                      parent=self)

    def on_backup_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the backup folder", self.backup_folder.text())
        if folder:
            self.backup_folder.setText(folder)

    def on_save_backups_clicked(self) -> None:
        values = dict(folder=self.backup_folder.text(), keep=self.backup_keep.value(),
                      warn_days=self.backup_warn_days.value(), when=self.backup_when.currentData())
        self.ctx.call(lambda store, actor: backups.set_backup_settings(store, actor, **values),
                      self._done(lambda s: f"Backup settings saved. Automatic backups go to {s.folder}."
                                 if s.folder else "Backup settings saved. Automatic backups are off."), parent=self)

    def on_restore_clicked(self) -> None:
        from ui.dialogs.restore_wizard import RestoreWizard

        wizard = RestoreWizard(self.ctx, self.store_id, self.backup_folder.text(), self)
        wizard.switched.connect(lambda folder: self.message.setText(
            f"Lantern will open the restored store in {folder} the next time it starts on this computer. "
            "Sign out and close Lantern to switch now."))
        self.wizard = wizard
        wizard.open()

    def on_backup_clicked(self) -> None:
        start = Path(self.backup_folder.text() or Path.home()) / "lantern-backup.lantern"
        path, _ = QFileDialog.getSaveFileName(self, "Save backup as", str(start),
                                              "Lantern backups (*.lantern)")
        if path:
            self.ctx.call(lambda store, actor: maintenance.backup_store(store, actor, Path(path)),
                          self._done(lambda m: f"Backup written and checked: {path} ({m['incidents']} incidents)."),
                          parent=self)


__all__ = ["AccountDialog", "AdminPage", "UsersModel"]
