"""The Exports page and export dialog on a real encrypted store, driven by keyboard and mouse: identifier hits
removed or kept one by one, re-export flags, the destination chooser, progress with Cancel off the GUI thread,
and the "not encrypted" notice after writing."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton

from core.dto import IncidentDraft, PersonDraft
from core.services import accounts, exports, incidents
from tests.ui.nurse_helpers import WAIT
from ui.context import AppContext
from ui.dialogs.export import COL_KEEP, ExportDialog
from ui.pages import page_registry
from ui.pages.exports import ExportsPage
from ui.session import Session
from ui.tasks import TaskRunner

NHS_NUMBER = "999 000 0018"  # passes the modulus-11 check; in the 999 test range, never issued


def _draft(ward_id: int, text: str) -> IncidentDraft:
    return IncidentDraft(
        ward_id=ward_id, types=("SS-SA",), occurred_at=datetime.now(UTC) - timedelta(hours=3), location="lounge",
        description=text, immediate_actions="Separated.",
        people=(PersonDraft(role="affected", person_type="patient", local_ref="AB-1", age_years=40,
                            harm_physical="none", harm_psychological="low"),
                PersonDraft(role="alleged_perpetrator", person_type="patient", local_ref="CD-2")))


@pytest.fixture
def manager_page(make_store, qtbot, password):
    """Oak Ward has two submitted incidents whose text holds the same synthetic NHS number; the Oak manager
    has the Exports page open."""
    store, actors, _recovery, wards = make_store()
    nurse = actors["nurse"]
    made = []
    for label in ("FIRST", "SECOND"):
        created = incidents.create_draft(store, nurse, _draft(wards["Oak Ward"], f"{label}: said {NHS_NUMBER}."))
        made.append(incidents.submit(store, nurse, created.incident_id))
    store.close()
    manager_store, manager = accounts.sign_in(store.folder, "manager", password)
    runner = TaskRunner()
    ctx = AppContext(Session(store.folder, manager_store, manager), runner)
    page = ExportsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: bool(page.wards), timeout=WAIT)
    yield page, ctx, made, wards
    runner.wait()
    if manager_store.is_open:
        manager_store.close()


def _open_dialog(qtbot, page) -> ExportDialog:
    qtbot.mouseClick(page.new_export, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    qtbot.waitExposed(dialog)
    return dialog


def _press(qtbot, widget, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(widget, key, modifier)


def test_exports_page_is_registered_for_export_permission():
    assert ("&Exports", "export.run", ExportsPage) in page_registry()


def test_keyboard_export_keeping_one_hit(manager_page, qtbot, tmp_path):
    page, _ctx, made, _wards = manager_page
    dialog = _open_dialog(qtbot, page)
    qtbot.waitUntil(lambda: dialog.hit_table.rowCount() == 2, timeout=WAIT)
    assert "2 piece(s) of text look like identifiers" in dialog.hits_status.text()
    assert not dialog.export_button.isEnabled()  # no destination yet
    # Kind: CSV, by keyboard on the combo.
    dialog.kind.setFocus()
    _press(qtbot, dialog.kind, Qt.Key.Key_Down)
    assert dialog.kind.currentData() == "nrls-csv"
    # Destination: Alt+S jumps to the field (the label's mnemonic); type the path.
    out = tmp_path / "oak.csv"
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=WAIT)
    _press(qtbot, dialog.kind, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is dialog.destination
    qtbot.keyClicks(dialog.destination, str(out))
    assert dialog.export_button.isEnabled()
    # Keep the hit in the FIRST incident: select its row and press Space on the Keep cell.
    qtbot.waitUntil(lambda: dialog.hit_table.rowCount() == 2, timeout=WAIT)
    row = next(r for r in range(2) if dialog.hits[r].reference == made[0].reference)
    dialog.hit_table.setFocus()
    dialog.hit_table.setCurrentCell(row, COL_KEEP)
    _press(qtbot, dialog.hit_table, Qt.Key.Key_Space)
    assert dialog.hit_table.item(row, COL_KEEP).checkState() == Qt.CheckState.Checked
    assert dialog.choice().keep_identifiers == {dialog.hits[row].key}
    # Export with Alt+E.
    _press(qtbot, dialog, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.progress is not None and page.progress.notice_box is not None
                    and page.progress.notice_box.isVisible(), timeout=WAIT)
    notice = page.progress.notice_box.text()
    assert "not encrypted" in notice and str(out) in notice and "1 identifier-like piece(s) of text were removed" \
        in notice
    rows = {r["TRUSTINCIDENTID"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"),
                                                                        newline=""))}
    assert NHS_NUMBER in rows[made[0].reference]["IN07"] and NHS_NUMBER not in rows[made[1].reference]["IN07"]
    assert "not encrypted" in page.last.text()
    page.progress.notice_box.close()


def test_remove_all_and_choose_destination_with_the_mouse(manager_page, qtbot, tmp_path, monkeypatch):
    page, _ctx, _made, _wards = manager_page
    dialog = _open_dialog(qtbot, page)
    qtbot.waitUntil(lambda: dialog.hit_table.rowCount() == 2, timeout=WAIT)
    qtbot.mouseClick(dialog.keep_all, Qt.MouseButton.LeftButton)
    assert len(dialog.choice().keep_identifiers) == 2
    qtbot.mouseClick(dialog.redact_all, Qt.MouseButton.LeftButton)
    assert dialog.choice().keep_identifiers == frozenset()
    chosen = tmp_path / "picked"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(chosen), "")))
    qtbot.mouseClick(dialog.choose, Qt.MouseButton.LeftButton)
    assert dialog.destination.text() == str(chosen) + ".xml"  # the kind's suffix is added
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.progress is not None and page.progress.notice_box is not None, timeout=WAIT)
    assert NHS_NUMBER not in (tmp_path / "picked.xml").read_text()
    page.progress.notice_box.close()


def test_changed_incidents_are_flagged(manager_page, qtbot, tmp_path):
    page, ctx, made, wards = manager_page
    store, manager = ctx.session.store, ctx.session.actor
    exports.export_incidents(store, manager, "nrls-xml", out_path=tmp_path / "first.xml")
    incidents.update_incident(store, manager, made[1].incident_id, _draft(wards["Oak Ward"], "Corrected."),
                              reason="Corrected the time")
    dialog = _open_dialog(qtbot, page)
    qtbot.waitUntil(lambda: dialog.flags.isVisible(), timeout=WAIT)
    assert made[1].reference in dialog.flags.text() and made[0].reference not in dialog.flags.text()
    assert "1 incident(s) changed after they were last exported as NRLS dataset (XML)" in dialog.flags.text()
    dialog.kind.setCurrentIndex(dialog.kind.findData("nrls-csv"))  # never exported as CSV: no flag
    qtbot.waitUntil(lambda: not dialog.flags.isVisible(), timeout=WAIT)


def test_cancel_writes_nothing(manager_page, qtbot, tmp_path):
    page, ctx, _made, _wards = manager_page
    dialog = _open_dialog(qtbot, page)
    qtbot.waitUntil(lambda: dialog.hit_table.rowCount() == 2, timeout=WAIT)
    out = tmp_path / "never.json"
    dialog.destination.setText(str(out))
    release = threading.Event()
    ctx.runner.run(lambda: release.wait(10), lambda _r: None, lambda _e: None)  # hold the database lane
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    progress = page.progress
    qtbot.waitUntil(lambda: progress.dialog.isVisible(), timeout=WAIT)
    cancel = next(b for b in progress.dialog.findChildren(QPushButton) if "Cancel" in b.text())
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert progress.token.cancelled
    release.set()
    qtbot.waitUntil(lambda: progress.notice_box is not None and progress.notice_box.isVisible(), timeout=WAIT)
    assert progress.notice_box.windowTitle() == "Export cancelled"
    assert "Nothing was written" in progress.notice_box.text()
    assert not out.exists() and list(tmp_path.glob("*.part")) == []
    progress.notice_box.close()


def test_ward_report_needs_no_text_choices(manager_page, qtbot, tmp_path):
    page, _ctx, _made, wards = manager_page
    dialog = _open_dialog(qtbot, page)
    dialog.kind.setCurrentIndex(dialog.kind.findData("pdf-ward"))
    assert dialog.limit_period.isChecked() and not dialog.privacy.isEnabled()
    dialog.ward.setCurrentIndex(dialog.ward.findData(wards["Oak Ward"]))
    dialog.destination.setText(str(tmp_path / "ward.pdf"))
    dialog.activateWindow()
    dialog.destination.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.destination, timeout=WAIT)
    _press(qtbot, dialog.destination, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.progress is not None and page.progress.notice_box is not None, timeout=WAIT)
    assert (tmp_path / "ward.pdf").read_bytes().startswith(b"%PDF")
    page.progress.notice_box.close()
    assert QApplication.activeModalWidget() is None or not QApplication.activeModalWidget().isVisible()
