"""The administrator's restore wizard (ui layer): choose a backup, see what is in it, choose a new folder, restore.

The restore itself runs on the database lane (core.services.backups.restore_backup); the live store
is never overwritten. At the end the administrator may make the restored store the one Lantern opens.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from core.clock import local
from core.services import backups
from ui.context import AppContext
from ui.errors import message_for
from ui.widgets.a11y import LiveLabel


def _label(text: str = "", name: str = "") -> QLabel:
    label = LiveLabel(name, text) if name else QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _path_row(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class ChooseBackupPage(QWizardPage):
    def __init__(self, wizard: RestoreWizard):
        super().__init__()
        self.owner = wizard
        self.setTitle("Choose the backup")
        self.setSubTitle("Pick the backup file to restore. Lantern checks it before anything else happens.")
        layout = QVBoxLayout(self)
        layout.addWidget(_label("Automatic backups are named lantern-auto-…-<date>-<time>.lantern and live in the "
                                "backup folder set on the Administration page. The newest is usually the one you "
                                "want."))
        self.path = QLineEdit()
        self.path.setAccessibleName("Backup file")
        self.path.setPlaceholderText("Full path of a .lantern backup file")
        self.browse = QPushButton("&Browse…")
        layout.addLayout(_path_row(self.path, self.browse))
        self.problem = _label(name="Problem with the backup file")
        self.problem.setObjectName("error")
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.path.textChanged.connect(self.completeChanged)
        self.path.textChanged.connect(lambda _text: self.problem.clear())
        self.browse.clicked.connect(self.on_browse_clicked)

    def on_browse_clicked(self) -> None:
        start = self.owner.start_folder or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Lantern backup", start, "Lantern backups (*.lantern)")
        if path:
            self.path.setText(path)

    def isComplete(self) -> bool:
        return bool(self.path.text().strip())

    def validatePage(self) -> bool:
        path = Path(self.path.text().strip())
        try:
            self.owner.info = backups.describe_backup(path)
        except Exception as err:  # noqa: BLE001 - shown in plain words by the one mapping
            self.problem.setText(message_for(err))
            return False
        self.owner.backup_file = path
        return True


class BackupCheckedPage(QWizardPage):
    def __init__(self, wizard: RestoreWizard):
        super().__init__()
        self.owner = wizard
        self.setTitle("The backup file is sound")
        self.setSubTitle("Its checksums match. This is what it holds.")
        layout = QVBoxLayout(self)
        self.summary = _label(name="What the backup holds")
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def initializePage(self) -> None:
        info = self.owner.info
        made = f"{local(info.created_at):%d %B %Y at %H:%M}" if info.created_at else "an unknown date"
        same = info.store_id == self.owner.store_id
        whose = ("It is a backup of <b>this</b> store: Lantern will also open it with the store's key and check "
                 "every page before restoring." if same else
                 "It is a backup of a <b>different</b> store. Lantern can check its checksums but not its pages; "
                 "after restoring, sign in to it and run the check on the Home page.")
        self.summary.setText(f"<p>Made on <b>{made}</b> by Lantern {info.app_version}.</p>"
                             f"<p><b>{info.incidents}</b> incidents. Schema revision {info.schema_revision}.</p>"
                             f"<p>{whose}</p><p>The current store is not changed by a restore.</p>")


class ChooseFolderPage(QWizardPage):
    def __init__(self, wizard: RestoreWizard):
        super().__init__()
        self.owner = wizard
        self.setTitle("Choose a new, empty folder")
        self.setSubTitle("The backup is restored into a new store there. Use this computer's own disk, "
                         "not a network drive.")
        layout = QVBoxLayout(self)
        self.path = QLineEdit()
        self.path.setAccessibleName("Folder for the restored store")
        self.path.setPlaceholderText("For example C:\\ProgramData\\Lantern\\restored-store")
        self.browse = QPushButton("B&rowse…")
        layout.addLayout(_path_row(self.path, self.browse))
        layout.addWidget(_label("The restored store opens with the same usernames and passwords as when the backup "
                                "was made, and with the same recovery key."))
        self.problem = _label(name="Problem with the folder")
        self.problem.setObjectName("error")
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.setButtonText(QWizard.WizardButton.NextButton, "&Restore")
        self.path.textChanged.connect(self.completeChanged)
        self.path.textChanged.connect(lambda _text: self.problem.clear())
        self.browse.clicked.connect(self.on_browse_clicked)

    def on_browse_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a new, empty folder", str(Path.home()))
        if path:
            self.path.setText(path)

    def isComplete(self) -> bool:
        return bool(self.path.text().strip())

    def validatePage(self) -> bool:
        folder = Path(self.path.text().strip()).expanduser()
        if not folder.is_absolute():
            self.problem.setText("Give the folder's full path, for example C:\\ProgramData\\Lantern\\restored-store.")
            return False
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            self.problem.setText(f"{folder} is not an empty folder. Choose a new or empty folder.")
            return False
        self.owner.new_folder = folder
        return True


class RestorePage(QWizardPage):
    def __init__(self, wizard: RestoreWizard):
        super().__init__()
        self.owner = wizard
        self.done = False
        self.setTitle("Restoring")
        self.setSubTitle("The current store is not changed.")
        layout = QVBoxLayout(self)
        self.result = _label("Restoring the backup…", "Restore result")
        layout.addWidget(self.result)
        self.switch = QCheckBox("&Open the restored store on this computer from the next time Lantern starts")
        self.switch.setVisible(False)
        layout.addWidget(self.switch)
        layout.addStretch(1)

    def _show_back_and_cancel(self, show: bool) -> None:
        """After a restore there is nothing to go back to or cancel; after a failure there is."""
        self.owner.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, not show)
        self.owner.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, not show)

    def initializePage(self) -> None:
        self.done = False
        self.setTitle("Restoring")
        self.result.setObjectName("")
        self.result.setText("Restoring the backup…")
        self.switch.setVisible(False)
        self._show_back_and_cancel(False)
        backup_file, folder = self.owner.backup_file, self.owner.new_folder
        self.owner.ctx.call(lambda store, actor: backups.restore_backup(store, actor, backup_file, folder),
                            self.on_restored, self.on_failed)

    def on_restored(self, result: backups.RestoreResult) -> None:
        checked = ("Every page was checked with the store's key." if result.fully_checked else
                   "Sign in to it and run the check on the Home page before using it.")
        self.setTitle("Restored")
        self.result.setText(f"<p>The backup was restored into <b>{result.folder}</b> ({result.incidents} "
                            f"incidents). {checked}</p><p>It opens with the same passwords as when the backup "
                            "was made.</p>")
        self.switch.setVisible(True)
        self.switch.setChecked(True)
        self.done = True
        self.owner.restored.emit(result.folder)
        self.completeChanged.emit()

    def on_failed(self, err: BaseException) -> None:
        self.setTitle("The restore did not happen")
        self.result.setText(f"{message_for(err)}<br><br>Nothing was changed. Go back to choose another backup "
                            "or folder.")
        self.result.setObjectName("error")
        self._show_back_and_cancel(True)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.done


class RestoreWizard(QWizard):
    """Restore a backup into a new folder. `restored(folder)` is emitted when it has been restored."""

    restored = Signal(str)
    switched = Signal(str)

    def __init__(self, ctx: AppContext, store_id: str, start_folder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.store_id, self.start_folder = ctx, store_id, start_folder
        self.info: backups.BackupInfo | None = None
        self.backup_file: Path | None = None
        self.new_folder: Path | None = None
        self.setWindowTitle("Restore a backup")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(640, 420)
        self.choose_page = ChooseBackupPage(self)
        self.checked_page = BackupCheckedPage(self)
        self.folder_page = ChooseFolderPage(self)
        self.restore_page = RestorePage(self)
        for page in (self.choose_page, self.checked_page, self.folder_page, self.restore_page):
            self.addPage(page)

    def accept(self) -> None:
        if self.restore_page.done and self.restore_page.switch.isChecked():
            folder = self.new_folder
            self.ctx.call(lambda store, actor: backups.switch_store(store, actor, folder),
                          lambda chosen: self.switched.emit(str(chosen)), parent=self.parentWidget())
        super().accept()
