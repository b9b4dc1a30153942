"""The start-up check finds damage and the main window says the store is read-only (REL-05, SEC-05).

A byte is flipped in a page that signing in does not read (an index of the people involved), so sign-in works
and only the background `quick_check` finds it, as it would find a failing disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.db.engine import DB_FILE_NAME
from core.db.store import unit_of_work
from core.errors import StoreReadOnly
from core.services import incidents
from tests.core.manager_helpers import draft
from tests.ui.nurse_helpers import WAIT, sign_in
from ui.app import AppController

PAGE = 4096


def damaged_store(make_store):
    store, actors, _recovery, wards = make_store()
    for _ in range(5):
        incidents.create_draft(store, actors["nurse"], draft(wards["Oak Ward"]))
    with unit_of_work(store, write=False) as session:
        page = session.connection().exec_driver_sql(
            "SELECT rootpage FROM sqlite_master WHERE name = 'ix_people_involved_local_ref'").scalar()
    store.close()
    with open(store.folder / DB_FILE_NAME, "r+b") as fh:
        fh.seek((page - 1) * PAGE + 1500)
        byte = fh.read(1)
        fh.seek((page - 1) * PAGE + 1500)
        fh.write(bytes([byte[0] ^ 0x08]))
    return store.folder, wards


def test_nurse_sees_the_store_is_read_only_and_is_told_to_use_paper(qtbot, make_store, password):
    folder, wards = damaged_store(make_store)
    controller = AppController(folder)
    window = sign_in(qtbot, controller, "nurse", password)
    qtbot.waitUntil(lambda: window.damage_banner.isVisible(), timeout=WAIT)
    text = window.damage_text.text()
    assert "read-only" in text and "paper form" in text
    assert not window.restore_button.isVisible()
    assert window.status_label.text().startswith("READ-ONLY")
    with pytest.raises(StoreReadOnly):
        incidents.create_draft(controller.session.store, controller.session.actor, draft(wards["Oak Ward"]))
    controller.shutdown()


def test_administrator_is_offered_the_restore_wizard_from_the_banner(qtbot, make_store, password):
    folder, _wards = damaged_store(make_store)
    controller = AppController(folder)
    window = sign_in(qtbot, controller, "admin", password)
    qtbot.waitUntil(lambda: window.damage_banner.isVisible(), timeout=WAIT)
    assert window.restore_button.isVisible() and "Restore the latest backup" in window.damage_text.text()
    qtbot.waitUntil(lambda: window.restore_button.hasFocus(), timeout=WAIT)
    qtbot.keyClick(window.restore_button, Qt.Key.Key_Space)
    from ui.pages.admin import AdminPage

    admin = window.page(AdminPage)
    assert window.tabs.currentWidget() is admin
    qtbot.waitUntil(lambda: admin.wizard.isVisible(), timeout=WAIT)
    admin.wizard.reject()
    controller.shutdown()


def test_a_healthy_store_shows_no_banner(qtbot, make_store, password):
    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = AppController(store.folder)
    window = sign_in(qtbot, controller, "nurse", password)
    assert controller.checker.wait(WAIT)
    qtbot.wait(50)  # let the check's result reach the window
    assert window.damage_banner.isHidden()
    assert not window.status_label.text().startswith("READ-ONLY")
    controller.shutdown()


@pytest.mark.skipif(not os.environ.get("LANTERN_SCREENSHOTS"),
                    reason="set LANTERN_SCREENSHOTS=<folder> to write the screenshots")
def test_write_damage_screenshots(qtbot, make_store, password):
    out = Path(os.environ["LANTERN_SCREENSHOTS"])
    folder, _wards = damaged_store(make_store)
    for username, name in (("nurse", "damaged-store-nurse.png"), ("admin", "damaged-store-admin.png")):
        controller = AppController(folder)
        window = sign_in(qtbot, controller, username, password)
        window.resize(1100, 600)
        qtbot.waitUntil(lambda w=window: w.damage_banner.isVisible(), timeout=WAIT)
        qtbot.wait(50)
        window.grab().save(str(out / name))
        controller.shutdown()
