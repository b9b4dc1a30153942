"""Trust-wide views (issue 16 item 6): the dashboard and the incident list for one service line (every ward of
one service type the person reads), beside one ward and all wards; the drill-down keeps the service line."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.db.models import Ward
from core.db.store import unit_of_work
from core.errors import ValidationError
from core.services import reports, review
from tests.core.manager_helpers import report


def test_a_service_lines_dashboard_counts_only_its_wards(fresh):
    oak, elm = fresh.wards["Oak Ward"], fresh.wards["Elm Ward"]
    with unit_of_work(fresh.store) as session:
        session.execute(update(Ward).where(Ward.id == elm).values(service_type="camhs"))
        session.commit()
    lead = fresh.actors["lead"]
    for _ in range(2):
        report(fresh.store, lead, oak)
    report(fresh.store, lead, elm)
    everything = reports.dashboard(fresh.store, lead)
    camhs = reports.dashboard(fresh.store, lead, service_type="camhs")
    adult = reports.dashboard(fresh.store, lead, service_type="adult_acute")
    assert (everything.total, camhs.total, adult.total) == (3, 1, 2)
    assert camhs.ward_name == "Child and adolescent mental health (CAMHS) wards"
    drilled = reports.drill_down(camhs, "type", camhs.by_type[0].code)
    assert drilled.service_type == "camhs"
    assert [r.ward_name for r in review.list_incidents(fresh.store, lead, drilled).rows] == ["Elm Ward"]
    with pytest.raises(ValidationError, match="service line"):
        reports.dashboard(fresh.store, lead, service_type="no_such_service")
