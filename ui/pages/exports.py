"""The Exports screen (ui layer): opens the export dialog, loads what it shows, and runs the export it returns.

The dialog only collects choices; this page calls the services on the database lane: export_preview (the
identifier hits and the re-export flags, in one transaction) for the dialog's preview, then iter_export through
ExportProgress.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget
from shiboken6 import isValid

from core.security.permissions import SAFEGUARDING_LEAD
from core.services import accounts, exports
from core.services.export_preview import export_preview
from ui.context import AppContext
from ui.dialogs.export import ExportChoice, ExportDialog, ExportProgress
from ui.errors import message_for
from ui.widgets.a11y import LiveLabel


class ExportsPage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setAccessibleName("Exports")
        self.wards: list[tuple[int, str]] = []
        self.dialog: ExportDialog | None = None
        self.progress: ExportProgress | None = None
        self._scope_serial = 0
        layout = QVBoxLayout(self)
        intro = QLabel("<h2>Exports</h2>Send incidents to the trust's risk team (NRLS dataset or LFPSE-aligned "
                       "file), or make a PDF for a safeguarding team or a ward report. You choose what goes in; "
                       "text that looks like an NHS number, date of birth, phone number, postcode or email is "
                       "removed unless you decide to keep it. <b>Exported files are not encrypted.</b>")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.new_export = QPushButton("&New export…")
        self.new_export.clicked.connect(self.open_dialog)
        layout.addWidget(self.new_export)
        self.last = LiveLabel("Last export")
        self.last.setWordWrap(True)
        layout.addWidget(self.last)
        layout.addStretch(1)
        ctx.call(lambda store, actor: accounts.list_wards(store, actor), self._alive(self._wards_loaded), parent=self,
                 read=True)

    def _alive(self, fn):
        return lambda value: fn(value) if isValid(self) else None

    def _wards_loaded(self, wards) -> None:
        actor = self.ctx.actor
        self.wards = [(w.ward_id, w.name) for w in wards
                      if w.active and (actor.role == SAFEGUARDING_LEAD or w.ward_id in actor.ward_ids)]

    def open_dialog(self) -> None:
        all_label = "All wards" if self.ctx.actor.role == SAFEGUARDING_LEAD else "All my wards"
        self.dialog = ExportDialog(self.wards, all_wards_label=all_label, parent=self)
        self.dialog.scope_changed.connect(self.load_preview)
        self.dialog.accepted.connect(self.on_dialog_accepted)
        self.dialog.open()
        self.load_preview()

    def load_preview(self) -> None:
        """Load the identifier hits and the re-export flags for what the dialog now covers."""
        dialog = self.dialog
        if dialog is None:
            return
        self._scope_serial += 1
        serial, choice = self._scope_serial, dialog.choice()

        def job(store, actor):
            return export_preview(store, actor, choice.kind, ward_id=choice.ward_id, date_from=choice.date_from,
                                  date_to=choice.date_to, incident_reference=choice.incident_reference or "")

        def done(preview) -> None:
            if serial == self._scope_serial and isValid(dialog):
                dialog.set_hits(preview.hits)
                dialog.set_flags(preview.flags)

        def failed(err) -> None:
            if serial == self._scope_serial and isValid(dialog):
                dialog.set_hits_failed(message_for(err))
                dialog.set_flags([])

        self.ctx.call(job, done, failed, parent=self)

    def on_dialog_accepted(self) -> None:
        choice: ExportChoice = self.dialog.choice()
        request = exports.ExportRequest(
            kind=choice.kind, out_path=choice.out_path, ward_id=choice.ward_id, date_from=choice.date_from,
            date_to=choice.date_to, include_free_text=choice.include_free_text, redact_identifiers=True,
            keep_identifiers=choice.keep_identifiers)
        reference = choice.incident_reference if choice.kind == exports.PDF_INCIDENT else ""
        self.progress = ExportProgress(self.ctx, request, self, reference=reference)
        self.progress.finished.connect(self._alive(self._finished))
        self.progress.start()

    def _finished(self, result) -> None:
        if result is not None:
            self.last.setText(f"Last export: {result.incident_count} incident(s) to {result.path}. "
                              f"<b>This file is not encrypted; store it securely.</b>")
