"""My incidents: the thin table model (no view, qtmodeltester) and the page on a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.dto import IncidentDraft, PersonDraft
from core.services import accounts, incidents
from tests.ui.nurse_helpers import WAIT
from ui.context import AppContext
from ui.pages.my_incidents import (
    COL_ACTIONS,
    COL_FEEDBACK,
    COL_REFERENCE,
    COL_STATUS,
    MyIncidentsModel,
    MyIncidentsPage,
)
from ui.session import Session
from ui.tasks import TaskRunner


def report(store, nurse, ward_id: int, *, submit: bool = True):
    draft = IncidentDraft(
        ward_id=ward_id, types=("SS-SA",), occurred_at=datetime.now(UTC) - timedelta(hours=2), location="lounge",
        description="Synthetic: AB touched CD without agreement.",
        people=(PersonDraft("affected", "patient", "CD", harm_physical="none", harm_psychological="moderate"),
                PersonDraft("alleged_perpetrator", "patient", "AB")))
    detail = incidents.create_draft(store, nurse, draft)
    return incidents.submit(store, nurse, detail.incident_id) if submit else detail


@pytest.fixture
def seeded(make_store, password):
    store, actors, _recovery, wards = make_store()
    store.close()
    nurse_store, nurse = accounts.sign_in(store.folder, "nurse", password)
    submitted = report(nurse_store, nurse, wards["Oak Ward"])
    report(nurse_store, nurse, wards["Oak Ward"], submit=False)
    nurse_store.close()
    manager_store, manager = accounts.sign_in(store.folder, "manager", password)
    incidents.set_feedback(manager_store, manager, submitted.incident_id, "Thank you: risk assessments updated.")
    manager_store.close()
    nurse_store, nurse = accounts.sign_in(store.folder, "nurse", password)
    yield nurse_store, nurse, submitted
    nurse_store.close()


def test_model_without_a_view(seeded, qtmodeltester):
    store, nurse, submitted = seeded
    model = MyIncidentsModel()
    model.set_rows(incidents.list_my_incidents(store, nurse))
    assert model.rowCount() == 2
    rows = {model.index(r, COL_REFERENCE).data(): r for r in range(2)}
    row = rows[submitted.reference]
    assert model.index(row, COL_STATUS).data() == "Submitted"
    assert model.index(row, COL_FEEDBACK).data() == "Thank you: risk assessments updated."
    open_count = sum(1 for a in submitted.actions if a.status == "open")
    assert model.index(row, COL_ACTIONS).data().startswith(str(open_count))
    draft_row = 1 - row
    assert model.index(draft_row, COL_STATUS).data() == "Draft (not sent yet)"
    assert model.index(draft_row, COL_FEEDBACK).data() == "No feedback yet"
    qtmodeltester.check(model)
    model.set_rows([])
    qtmodeltester.check(model)


def test_page_shows_open_actions_and_feedback(seeded, qtbot):
    store, nurse, submitted = seeded
    runner = TaskRunner()
    ctx = AppContext(Session(store.folder, store, nurse), runner)
    page = MyIncidentsPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=WAIT)
    page.table.setFocus()
    row = next(r for r in range(page.proxy.rowCount())
               if page.proxy.index(r, COL_REFERENCE).data() == submitted.reference)
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: submitted.reference in page.detail.text(), timeout=WAIT)
    assert "Thank you: risk assessments updated." in page.detail.text()
    assert "Still to do" in page.detail.text()
    runner.wait()
