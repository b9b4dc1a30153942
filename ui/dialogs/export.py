"""The export dialog and the export's progress window (ui layer).

`ExportDialog` only collects the user's choices (kind, ward, period, destination, what to do with each
identifier-like hit) and shows what its caller loads for it: the hits and the re-export flags. The caller
(ui.pages.exports) calls the services. `ExportProgress` runs core's `iter_export` on the database lane, maps
its Progress to a progress bar with Cancel, and ends with the "not encrypted" notice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.exports.progress import Cancelled, CancelToken, Progress, drive
from core.services import exports
from ui.context import AppContext
from ui.errors import show_error
from ui.widgets.a11y import LiveLabel

FIELD_LABELS = {"description": "What happened", "immediate_actions": "Immediate actions",
                "action_note": "Action note"}
COL_KEEP, COL_REFERENCE, COL_FIELD, COL_KIND, COL_TEXT = range(5)
HIT_HEADERS = ("In the file", "Incident", "Where", "Looks like", "Text around it")
REMOVED, KEPT = "Will be removed", "Kept as written"
NOT_ENCRYPTED = ("The file will <b>not be encrypted</b>. Save it only somewhere secure, send it only by "
                 "secure email, and delete it when it is no longer needed.")


@dataclass(frozen=True)
class ExportChoice:
    """What the user chose in the dialog: the caller turns it into a core ExportRequest."""

    kind: str
    ward_id: int | None
    date_from: date | None
    date_to: date | None
    incident_reference: str
    out_path: Path
    include_free_text: bool
    keep_identifiers: frozenset[str]


class ExportDialog(QDialog):
    """Collects an ExportChoice. Emits `scope_changed` when the incidents it covers may have changed, so the
    caller can load the identifier hits (`set_hits`) and the re-export flags (`set_flags`)."""

    scope_changed = Signal()

    def __init__(self, wards: list[tuple[int, str]], *, all_wards_label: str = "All my wards",
                 parent: QWidget | None = None, today: date | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export incidents")
        self.setAccessibleName("Export incidents")
        self.hits: list[exports.IdentifierHit] = []
        today = today or date.today()
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_choices(wards, all_wards_label, today))
        self.flags = LiveLabel("Changed since last exported")
        self.flags.setWordWrap(True)
        self.flags.setObjectName("notice")
        self.flags.hide()
        layout.addWidget(self.flags)
        layout.addWidget(self._build_privacy(), 1)
        notice = QLabel(NOT_ENCRYPTED)
        notice.setWordWrap(True)
        notice.setAccessibleDescription("The file is not encrypted")
        layout.addWidget(notice)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._wire()
        self.resize(820, 640)

    # ----- building --------------------------------------------------------------------------------------

    def _build_choices(self, wards, all_wards_label: str, today: date) -> QFormLayout:
        """Kind, ward, period, incident reference and where to save."""
        form = QFormLayout()
        self.kind = QComboBox()
        for kind in (exports.NRLS_XML, exports.NRLS_CSV, exports.LFPSE_JSON, exports.PDF_WARD, exports.PDF_INCIDENT):
            self.kind.addItem(exports.KIND_LABELS[kind], kind)
        form.addRow(self._label("&Kind of export", self.kind), self.kind)
        self.ward = QComboBox()
        self.ward.addItem(all_wards_label, None)
        for ward_id, name in wards:
            self.ward.addItem(name, ward_id)
        form.addRow(self._label("&Ward", self.ward), self.ward)
        self.limit_period = QCheckBox("&Only incidents that happened from")
        self.date_from = self._date_edit(today - timedelta(days=90), "First day")
        self.date_to = self._date_edit(today, "Last day")
        period = QHBoxLayout()
        period.addWidget(self.limit_period)
        period.addWidget(self.date_from)
        period.addWidget(QLabel("to"))
        period.addWidget(self.date_to)
        period.addStretch(1)
        form.addRow("Period", period)
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("for example LAN-2026-00012")
        self.reference_label = self._label("&Incident reference", self.reference)
        form.addRow(self.reference_label, self.reference)
        self.destination = QLineEdit()
        self.destination.setPlaceholderText("Choose where to save the file")
        self.destination.setAccessibleName("Save the file as")
        self.choose = QPushButton("&Choose…")
        self.choose.clicked.connect(self.on_choose_clicked)
        where = QHBoxLayout()
        where.addWidget(self.destination, 1)
        where.addWidget(self.choose)
        form.addRow(self._label("&Save as", self.destination), where)
        return form

    def _build_privacy(self) -> QGroupBox:
        """Include the free text or leave it out, and the identifier-like text found in it."""
        self.privacy = QGroupBox("Free text (what happened, immediate actions, action notes)")
        privacy = QVBoxLayout(self.privacy)
        self.include_text = QRadioButton("I&nclude it. Anything that looks like an NHS number, date of birth, phone "
                                         "number, postcode or email is removed, unless you tick it below.")
        self.omit_text = QRadioButton("&Leave all free text out of the file")
        self.include_text.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.include_text)
        group.addButton(self.omit_text)
        privacy.addWidget(self.include_text)
        privacy.addWidget(self.omit_text)
        self.hits_status = LiveLabel("Identifier check", "Checking the text for identifiers…")
        self.hits_status.setWordWrap(True)
        privacy.addWidget(self.hits_status)
        privacy.addWidget(self._build_hit_table())
        bulk = QHBoxLayout()
        self.redact_all = QPushButton("Remove &all")
        self.keep_all = QPushButton("Keep all as &written")
        self.redact_all.clicked.connect(lambda: self._set_all_kept(False))
        self.keep_all.clicked.connect(lambda: self._set_all_kept(True))
        bulk.addWidget(self.redact_all)
        bulk.addWidget(self.keep_all)
        bulk.addStretch(1)
        privacy.addLayout(bulk)
        return self.privacy

    def _build_hit_table(self) -> QTableWidget:
        self.hit_table = QTableWidget(0, len(HIT_HEADERS))
        self.hit_table.setHorizontalHeaderLabels(HIT_HEADERS)
        self.hit_table.setAccessibleName("Identifier-like text found")
        self.hit_table.verticalHeader().hide()
        self.hit_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.hit_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.hit_table.setTabKeyNavigation(False)
        self.hit_table.itemChanged.connect(self.on_hit_changed)
        header = self.hit_table.horizontalHeader()
        for column in (COL_KEEP, COL_REFERENCE, COL_FIELD, COL_KIND):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.hit_table.setMinimumHeight(120)
        return self.hit_table

    def _wire(self) -> None:
        """A changed scope rescans after a pause; the kind, free-text choice and destination enable the rest."""
        self.scope_timer = QTimer(self)
        self.scope_timer.setSingleShot(True)
        self.scope_timer.setInterval(400)  # typing a reference or stepping dates does not rescan each key
        self.scope_timer.timeout.connect(self.scope_changed)
        for signal in (self.kind.currentIndexChanged, self.ward.currentIndexChanged, self.limit_period.toggled,
                       self.date_from.dateChanged, self.date_to.dateChanged, self.reference.textChanged):
            signal.connect(self.on_scope_edited)
        self.kind.currentIndexChanged.connect(self.on_kind_changed)
        self.omit_text.toggled.connect(self._update_enabled)
        self.destination.textChanged.connect(self._update_enabled)
        self.limit_period.toggled.connect(self._update_enabled)
        self.on_kind_changed()

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    @staticmethod
    def _date_edit(day: date, name: str) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")
        edit.setAccessibleName(name)
        return edit

    # ----- what the caller reads and feeds ----------------------------------------------------------------

    def choice(self) -> ExportChoice:
        limited = self.limit_period.isChecked()
        keep = frozenset(self.hits[row].key for row in range(self.hit_table.rowCount())
                         if self.hit_table.item(row, COL_KEEP).checkState() == Qt.CheckState.Checked)
        return ExportChoice(
            kind=self.kind.currentData(), ward_id=self.ward.currentData(),
            date_from=self.date_from.date().toPython() if limited else None,
            date_to=self.date_to.date().toPython() if limited else None,
            incident_reference=self.reference.text().strip(), out_path=Path(self.destination.text().strip()),
            include_free_text=self.include_text.isChecked(), keep_identifiers=keep)

    def set_hits(self, hits: list[exports.IdentifierHit]) -> None:
        """Show the identifier-like hits, each to be removed (the default) or kept as written."""
        self.hits = list(hits)
        self.hit_table.setRowCount(len(self.hits))
        for row, hit in enumerate(self.hits):
            keep = QTableWidgetItem(REMOVED)
            keep.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            keep.setCheckState(Qt.CheckState.Unchecked)
            keep.setToolTip("Tick to keep it as written, only if you are sure it does not identify anyone")
            self.hit_table.setItem(row, COL_KEEP, keep)
            for column, text in ((COL_REFERENCE, hit.reference), (COL_FIELD, FIELD_LABELS.get(hit.field, hit.field)),
                                 (COL_KIND, hit.kind_label), (COL_TEXT, f"…{hit.excerpt}…")):
                self.hit_table.setItem(row, column, QTableWidgetItem(text))
        if self.hits:
            self.hits_status.setText(f"<b>{len(self.hits)} piece(s) of text look like identifiers.</b> Each is "
                                     "removed from the file unless you tick it to keep it as written. Names cannot "
                                     "be found automatically: read the file before it leaves.")
        else:
            self.hits_status.setText("Nothing that looks like an NHS number, date of birth, phone number, postcode "
                                     "or email was found. Names cannot be found automatically: read the file "
                                     "before it leaves.")
        self._update_enabled()

    def set_hits_failed(self, message: str) -> None:
        self.set_hits([])
        self.hits_status.setText(message)

    def set_flags(self, flags: list[exports.ReexportFlag]) -> None:
        """Show which incidents changed after they were last exported as this kind."""
        if not flags:
            self.flags.hide()
            self.flags.clear()
            return
        refs = ", ".join(f.reference for f in flags[:12]) + (f" and {len(flags) - 12} more" if len(flags) > 12 else "")
        self.flags.setText(f"<b>{len(flags)} incident(s) changed after they were last exported as "
                           f"{exports.KIND_LABELS[self.kind.currentData()]}:</b> {refs}. Export them again so the "
                           "people who had the earlier file get the current record.")
        self.flags.show()

    # ----- handlers ------------------------------------------------------------------------------------------

    def on_scope_edited(self, *_args) -> None:
        self.hits_status.setText("Checking the text for identifiers…")
        self.scope_timer.start()

    def on_kind_changed(self, *_args) -> None:
        kind = self.kind.currentData()
        single = kind == exports.PDF_INCIDENT
        self.reference.setVisible(single)
        self.reference_label.setVisible(single)
        self.privacy.setEnabled(kind != exports.PDF_WARD)
        if kind == exports.PDF_WARD:
            self.limit_period.setChecked(True)
        suffix = exports.FILE_SUFFIXES[kind]
        text = self.destination.text().strip()
        if text and Path(text).suffix.lower() != suffix:
            self.destination.setText(str(Path(text).with_suffix(suffix)))
        self._update_enabled()

    def on_choose_clicked(self) -> None:
        kind = self.kind.currentData()
        suffix = exports.FILE_SUFFIXES[kind]
        start = self.destination.text().strip() or str(Path.home() / f"lantern-{kind}-{date.today():%Y-%m-%d}{suffix}")
        path, _filter = QFileDialog.getSaveFileName(self, "Save the export as", start,
                                                    f"{suffix[1:].upper()} files (*{suffix})")
        if path:
            self.destination.setText(path if Path(path).suffix else path + suffix)

    def on_hit_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == COL_KEEP:
            text = KEPT if item.checkState() == Qt.CheckState.Checked else REMOVED
            if item.text() != text:
                item.setText(text)

    def _set_all_kept(self, kept: bool) -> None:
        state = Qt.CheckState.Checked if kept else Qt.CheckState.Unchecked
        for row in range(self.hit_table.rowCount()):
            self.hit_table.item(row, COL_KEEP).setCheckState(state)

    def _update_enabled(self, *_args) -> None:
        limited = self.limit_period.isChecked()
        self.date_from.setEnabled(limited)
        self.date_to.setEnabled(limited)
        self.limit_period.setEnabled(self.kind.currentData() != exports.PDF_WARD)
        text_in = self.include_text.isChecked() and self.kind.currentData() != exports.PDF_WARD
        for widget in (self.hit_table, self.redact_all, self.keep_all):
            widget.setEnabled(text_in and bool(self.hits))
        self.export_button.setEnabled(bool(self.destination.text().strip()))


class _Relay(QObject):
    """Carries Progress from the database lane to the GUI thread (a queued signal)."""

    progressed = Signal(object)


class ExportProgress(QObject):
    """Run one export on the database lane with a progress bar and Cancel; then show the notice.

    `finished` carries the ExportResult, or None when it was cancelled or failed."""

    finished = Signal(object)

    def __init__(self, ctx: AppContext, request: exports.ExportRequest | None, parent: QWidget,
                 *, reference: str = ""):
        super().__init__(parent)
        self.ctx, self.request, self.parent_widget, self.reference = ctx, request, parent, reference
        self.token = CancelToken()
        self.relay = _Relay()
        self.relay.progressed.connect(self.on_progressed)
        self.dialog = QProgressDialog("Starting the export…", "&Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Exporting")
        self.dialog.setAccessibleName("Export progress")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.on_cancel_clicked)
        self.notice_box: QMessageBox | None = None
        self.result = None

    def start(self) -> None:
        self.dialog.show()
        token, relay, reference, request = self.token, self.relay, self.reference, self.request

        def job(store, actor):
            job_request = request
            if reference:  # a single incident, named by its reference
                incident_id = exports.incident_id_for_reference(store, actor, reference)
                job_request = replace(request, incident_id=incident_id)
            return drive(exports.iter_export(store, actor, job_request, cancel=token), relay.progressed.emit)

        self.ctx.call(job, self.on_done, self.on_failed, parent=self.parent_widget)

    def on_cancel_clicked(self) -> None:
        self.token.cancel()
        self.dialog.setLabelText("Stopping… nothing will be written.")

    def on_progressed(self, progress: Progress) -> None:
        if self.token.cancelled:
            return
        self.dialog.setMaximum(progress.total)
        self.dialog.setValue(progress.done if progress.total else 0)
        counted = f" ({progress.done:,} of {progress.total:,})" if progress.total else ""
        self.dialog.setLabelText(f"{progress.stage}{counted}…")

    def on_done(self, result) -> None:
        self.dialog.reset()
        self.dialog.hide()
        self.result = result
        count = f"{result.incident_count} incident{'s' if result.incident_count != 1 else ''}"
        removed = result.identifiers_found - result.identifiers_kept
        privacy = ("Free text was left out." if not result.free_text_included else
                   f"{removed} identifier-like piece(s) of text were removed, {result.identifiers_kept} kept."
                   if result.identifiers_found else "")
        self.notice_box = QMessageBox(QMessageBox.Icon.Warning, "Export saved: not encrypted",
                                      f"Saved {count} to {result.path}. {privacy}\n\n{result.notice}",
                                      QMessageBox.StandardButton.Ok, self.parent_widget)
        self.notice_box.setAccessibleName("Export saved: not encrypted")
        self.notice_box.open()
        self.finished.emit(result)

    def on_failed(self, err: BaseException) -> None:
        self.dialog.reset()
        self.dialog.hide()
        if isinstance(err, Cancelled):
            self.notice_box = QMessageBox(QMessageBox.Icon.Information, "Export cancelled", err.message,
                                          QMessageBox.StandardButton.Ok, self.parent_widget)
            self.notice_box.open()
        else:
            show_error(self.parent_widget, err, "Export")
        self.finished.emit(None)
