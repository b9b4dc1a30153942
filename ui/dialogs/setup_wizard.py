"""First-run setup (ui layer): create a new store or open an existing one, then remember where it is.

The wizard collects input only. When the administrator page is complete it emits `create_requested`
with a NewStoreRequest; `FirstRun` runs core's init_store on the database lane and hands back the
recovery key (shown once) or the problem, which the wizard shows on the page it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from core import paths
from core.errors import LanternError, StoreLocationRefused, ValidationError
from core.security.passwords import MIN_LENGTH, check_password
from core.services import accounts
from core.services.accounts import DEFAULT_KDF, KdfParams  # the store's key-derivation cost, through the service
from ui.dialogs.recovery_key import RecoveryKeyPage
from ui.dialogs.signin import StrengthLabel
from ui.errors import message_for
from ui.tasks import TaskRunner
from ui.widgets.a11y import LiveLabel

SLOT_FILE = "keyslots.json"  # how a Lantern store folder is recognised
PAGE_CHOICE, PAGE_LOCATION, PAGE_ORG, PAGE_ADMIN, PAGE_KEY, PAGE_OPEN = range(6)


@dataclass(frozen=True)
class NewStoreRequest:
    folder: Path
    ods_code: str
    wards: tuple[str, ...]
    admin_username: str
    admin_password: str


def default_store_folder() -> Path:
    return paths.shared_data_dir() / "store"


def _message_label() -> QLabel:
    label = LiveLabel("Problem", urgent=True)
    label.setObjectName("error")
    label.setWordWrap(True)
    return label


def _folder_row(edit: QLineEdit, parent: QWidget, title: str) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    browse = QPushButton("Choose…")
    browse.setAccessibleName(f"Choose the folder: {title}")

    def choose():
        folder = QFileDialog.getExistingDirectory(parent, title, edit.text())
        if folder:
            edit.setText(folder)

    browse.clicked.connect(choose)
    row.addWidget(browse)
    return row


class ChoicePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Welcome to Lantern")
        self.setSubTitle("Lantern keeps this ward's sexual-safety incident reports, encrypted, on this computer. "
                         "First, tell it where the reports are kept.")
        layout = QVBoxLayout(self)
        self.create = QRadioButton("Set up a ne&w store (the first time Lantern is used on this ward)")
        self.create.setAccessibleName("Set up a new store")
        self.create.setChecked(True)
        self.open = QRadioButton("&Open an existing store (one your administrator has already set up)")
        self.open.setAccessibleName("Open an existing store")
        layout.addWidget(self.create)
        layout.addWidget(self.open)
        note = QLabel("Setting up a new store is a job for the ward's Lantern administrator. It takes about five "
                      "minutes and you will need a printer, or paper and a pen, for the recovery key.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return PAGE_LOCATION if self.create.isChecked() else PAGE_OPEN


class FolderPage(QWizardPage):
    """A page that asks for one folder (a Choose… button beside it) and shows the problem with it."""

    def __init__(self, title: str, subtitle: str, name: str):
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        layout = QVBoxLayout(self)
        self.folder = QLineEdit(str(default_store_folder()))
        self.folder.setAccessibleName(name)
        label = QLabel("&Folder")
        label.setBuddy(self.folder)
        layout.addWidget(label)
        layout.addLayout(_folder_row(self.folder, self, name))
        self.message = _message_label()
        layout.addWidget(self.message)
        layout.addStretch(1)


class LocationPage(FolderPage):
    def __init__(self):
        super().__init__("Where to keep the new store", "Choose a folder on this computer's own disk. Everyone "
                         "who uses this computer uses the same store. A network drive cannot be used.",
                         "Folder for the new store")
        self.folder.textChanged.connect(lambda: self.message.setText(""))

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        text = self.folder.text().strip()
        if not text:
            self.message.setText("Needed: choose a folder for the store.")
            return False
        folder = Path(text).expanduser()
        if folder.is_dir() and any(folder.iterdir()):
            self.message.setText(f"Needed: {folder} already has files in it. Choose a new or empty folder.")
            return False
        return True


class OrganisationPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Your organisation and wards")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.ods = QLineEdit()
        self.ods.setMaxLength(10)
        self.ods.setPlaceholderText("e.g. RXX (your trust's ODS code)")
        self.ods.setAccessibleName("Organisation ODS code")
        form.addRow("Organisation &ODS code", self.ods)
        self.wards = QPlainTextEdit()
        self.wards.setTabChangesFocus(True)
        self.wards.setPlaceholderText("One ward per line, for example:\nOak Ward\nElm Ward")
        self.wards.setAccessibleName("Wards, one per line")
        form.addRow("&Wards (one per line)", self.wards)
        layout.addLayout(form)
        self.message = _message_label()
        layout.addWidget(self.message)
        hint = QLabel("You can add more wards later on the Administration page.")
        hint.setWordWrap(True)
        layout.addWidget(hint)

    def ward_names(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.wards.toPlainText().splitlines() if line.strip())

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if not self.ods.text().strip():
            self.message.setText("Needed: type your organisation's ODS code (for example RXX).")
            return False
        if not self.ward_names():
            self.message.setText("Needed: type at least one ward name.")
            return False
        return True


class AdminPage(QWizardPage):
    """The first administrator. Leaving this page creates the store (the wizard's caller does it)."""

    def __init__(self):
        super().__init__()
        self.setTitle("The first administrator")
        self.setSubTitle("This account manages staff accounts, wards and backups. It cannot read incident "
                         "reports. Nurses and managers get their own accounts later.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Create the store")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.username = QLineEdit("admin")
        self.username.setAccessibleName("Administrator username")
        self.password = QLineEdit()
        self.again = QLineEdit()
        for edit, name in ((self.password, "Administrator password"), (self.again, "Password again")):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setAccessibleName(name)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        self.strength = StrengthLabel(self.password, self.username)
        form.addRow("", self.strength)
        form.addRow("Password &again", self.again)
        layout.addLayout(form)
        tip = QLabel(f"Use at least {MIN_LENGTH} characters. Three random words are easy to remember and hard to "
                     "guess.")
        tip.setWordWrap(True)
        layout.addWidget(tip)
        self.message = _message_label()
        layout.addWidget(self.message)
        self.created = self.busy = False

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        if self.created:
            return True
        if self.busy:
            return False
        if self.password.text() != self.again.text():
            self.message.setText("Needed: the two passwords are not the same. Type them again.")
            self.again.clear()
            self.again.setFocus()
            return False
        try:
            check_password(self.password.text(), username=self.username.text().strip())
        except LanternError as err:
            self.message.setText(f"Needed: {message_for(err)}")
            self.password.setFocus()
            return False
        self.message.setText("Creating the store… this takes a few seconds.")
        self.busy = True
        self.setEnabled(False)
        self.wizard().request_creation()
        return False


class OpenExistingPage(FolderPage):
    def __init__(self):
        super().__init__("Open an existing store", "Choose the folder your administrator set up. It contains a "
                         "file called keyslots.json.", "Folder of the existing store")

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        folder = Path(self.folder.text().strip()).expanduser()
        if not (folder / SLOT_FILE).is_file():
            self.message.setText(f"Needed: there is no Lantern store in {folder}. Check the folder, or ask your "
                                 "administrator where the ward's store is.")
            return False
        return True

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return -1


class SetupWizard(QWizard):
    create_requested = Signal(object)  # NewStoreRequest

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Lantern: first-time setup")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.resize(720, 520)
        self.choice, self.location, self.organisation = ChoicePage(), LocationPage(), OrganisationPage()
        self.admin, self.recovery, self.existing = AdminPage(), RecoveryKeyPage(), OpenExistingPage()
        for page_id, page in ((PAGE_CHOICE, self.choice), (PAGE_LOCATION, self.location),
                              (PAGE_ORG, self.organisation), (PAGE_ADMIN, self.admin), (PAGE_KEY, self.recovery),
                              (PAGE_OPEN, self.existing)):
            self.setPage(page_id, page)
        self.setStartId(PAGE_CHOICE)
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next →")
        self.setButtonText(QWizard.WizardButton.BackButton, "← &Back")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Finish")
        self.currentIdChanged.connect(self._on_page)

    def _on_page(self, page_id: int) -> None:
        # Once the key is on screen there is no cancelling: it would be lost for ever.
        self.button(QWizard.WizardButton.CancelButton).setVisible(page_id != PAGE_KEY)

    def request(self) -> NewStoreRequest:
        return NewStoreRequest(Path(self.location.folder.text().strip()).expanduser(),
                               self.organisation.ods.text().strip(), self.organisation.ward_names(),
                               self.admin.username.text().strip(), self.admin.password.text())

    def request_creation(self) -> None:
        self.create_requested.emit(self.request())

    def chosen_folder(self) -> Path:
        page = self.existing if self.choice.open.isChecked() else self.location
        return Path(page.folder.text().strip()).expanduser()

    # ----- the caller reports back ------------------------------------------------------
    def store_created(self, recovery_key: str) -> None:
        self.admin.busy = False
        self.admin.setEnabled(True)
        self.admin.created = True
        self.admin.message.setText("")
        self.recovery.set_key(recovery_key, self.chosen_folder())
        self.next()
        self.recovery.confirm.setFocus()

    def creation_failed(self, err: BaseException) -> None:
        self.admin.busy = False
        self.admin.setEnabled(True)
        self.admin.message.setText("")
        text = f"Needed: {message_for(err)}"
        fields = err.field_errors if isinstance(err, ValidationError) else {}
        if isinstance(err, StoreLocationRefused) or "store" in fields:
            target = self.location
        elif {"ods_code", "ward"} & set(fields):
            target = self.organisation
        else:
            self.admin.message.setText(text)
            return
        while self.currentPage() is not target and self.currentId() != PAGE_CHOICE:
            self.back()
        target.message.setText(text)

    def reject(self) -> None:
        if self.admin.created and not self.recovery.confirm.isChecked():
            QMessageBox.information(self, "Lantern", "Tick the box to confirm the recovery key is printed or "
                                                     "written down. It cannot be shown again.")
            return
        super().reject()


class FirstRun(QObject):
    """Runs the setup wizard: creates the store on the database lane and remembers its folder in settings."""

    def __init__(self, runner: TaskRunner, kdf: KdfParams = DEFAULT_KDF, parent: QObject | None = None):
        super().__init__(parent)
        self.runner, self.kdf = runner, kdf
        self.wizard = SetupWizard()
        self.wizard.create_requested.connect(self.create)
        self.wizard.accepted.connect(self.remember)

    def create(self, request: NewStoreRequest) -> None:
        kdf = self.kdf

        def job() -> str:
            store, _admin, recovery_key = accounts.init_store(
                request.folder, ods_code=request.ods_code, wards=list(request.wards),
                admin_username=request.admin_username, admin_password=request.admin_password, kdf=kdf)
            store.close()
            return recovery_key

        def done(recovery_key: str) -> None:
            self.remember()  # the store exists now, whatever happens next
            self.wizard.store_created(recovery_key)

        self.runner.run(job, done, self.wizard.creation_failed)

    def remember(self) -> None:
        """Settings hold the store's location only, never a secret."""
        settings = paths.load_settings()
        settings["store"] = str(self.wizard.chosen_folder())
        paths.save_settings(settings)

    def folder(self) -> Path:
        return self.wizard.chosen_folder()
