"""The export dialog's preview is one service and one transaction (issue 15 item 1): the identifier hits, the
re-export flags and, for one incident's PDF, the reference look-up, read together; the scan audited once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import event

from core.errors import NotFound
from core.services import exports, incidents
from core.services.export_preview import ExportPreview, export_preview
from tests.core.manager_helpers import draft


def test_the_preview_reads_everything_in_one_transaction(fresh, tmp_path):
    lead, nurse, oak = fresh.actors["lead"], fresh.actors["nurse"], fresh.wards["Oak Ward"]
    made = incidents.create_draft(fresh.store, nurse, replace(draft(oak), description="Synthetic: rang 020 7946 0958."))
    sent = incidents.submit(fresh.store, nurse, made.incident_id)
    begins = []

    def count(_conn):
        begins.append(1)

    event.listen(fresh.store.engine, "begin", count)
    try:
        preview = export_preview(fresh.store, lead, exports.NRLS_CSV)
        one = export_preview(fresh.store, lead, exports.PDF_INCIDENT, incident_reference=sent.reference)
    finally:
        event.remove(fresh.store.engine, "begin", count)
    assert len(begins) == 2  # one transaction each (the old page used three)
    assert [h.incident_id for h in preview.hits] == [sent.incident_id] and preview.flags == []
    assert [h.incident_id for h in one.hits] == [sent.incident_id]
    assert export_preview(fresh.store, lead, exports.PDF_INCIDENT, incident_reference="  ") == ExportPreview([], [])
    with pytest.raises(NotFound):
        export_preview(fresh.store, lead, exports.PDF_INCIDENT, incident_reference="LAN-1999-00001")
