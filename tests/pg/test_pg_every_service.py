"""Every read and write service, once, on a trust's server (issue 16 item 1): each filter, sort and breakdown of
the incident list, the queue and the dashboard; every review and action change; every export kind; the history,
versions and the lead's view log. Each runs as the account it belongs to, through row-level security, so SQL
that only SQLite accepts (the dashboard's month grouping did not run on PostgreSQL) fails here by name."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import utcnow
from core.services import exports, incidents, queue, reports, review
from core.services.queue import SORTS as QUEUE_SORTS
from core.services.queue import QueueQuery
from core.services.review import INCIDENT_SORTS, IncidentQuery
from tests.core.manager_helpers import draft

NOTE = "Spoke to the ward team and recorded the outcome."


@pytest.fixture
def busy_trust(trust):
    """The trust with a few varied reports from the nurse: harm, a staff allegation (restricted), a night shift."""
    sign_in, oak = trust
    store, nurse = sign_in("nurse")
    sent = [incidents.submit_report(store, nurse, draft(oak, **kw)) for kw in (
        {}, {"harm": ("low", "moderate"), "shift": "night"}, {"types": ("SS-STAFF",), "perpetrator": "staff"},
        {"types": ("SS-SA",), "police_wishes": "yes", "location": "bedroom", "hours_ago": 30})]
    return sign_in, oak, sent


def test_the_incident_list_every_filter_and_sort(busy_trust):
    sign_in, oak, sent = busy_trust
    store, manager = sign_in("manager")
    everything = review.list_incidents(store, manager).rows
    assert {r.incident_id for r in everything} == {s.incident_id for s in sent}
    for sort in INCIDENT_SORTS:
        for descending in (True, False):
            assert len(review.list_incidents(store, manager, IncidentQuery(sort=sort, descending=descending)).rows) == 4
    month = utcnow().strftime("%Y-%m")
    for query in (IncidentQuery(ward_id=oak), IncidentQuery(status="open"), IncidentQuery(type_code="SS-SA"),
                  IncidentQuery(shift="night"), IncidentQuery(location="bedroom"), IncidentQuery(harm_physical="low"),
                  IncidentQuery(harm_psychological="moderate"), IncidentQuery(month=month),
                  IncidentQuery(date_from=date.today() - timedelta(days=3), date_to=date.today()),
                  IncidentQuery(needs_harm_confirmation=True), IncidentQuery(restricted_only=True),
                  IncidentQuery(police_referred=True), IncidentQuery(local_ref="A-100"),
                  IncidentQuery(service_type="adult_acute"), IncidentQuery(pair="patient_on_patient")):
        review.list_incidents(store, manager, query)  # runs on the server
    assert len(review.list_incidents(store, manager, IncidentQuery(restricted_only=True)).rows) == 1


def test_the_dashboard_every_breakdown_and_drill_down(busy_trust):
    sign_in, oak, _sent = busy_trust
    store, lead = sign_in("lead")
    for board in (reports.dashboard(store, lead), reports.dashboard(store, lead, ward_id=oak),
                  reports.dashboard(store, lead, service_type="adult_acute")):
        assert board.total == 4 and sum(b.count for b in board.by_month) == 4
        for dimension, buckets in (("type", board.by_type), ("pair", board.by_pair), ("shift", board.by_shift),
                                   ("location", board.by_location)):
            for bucket in buckets:
                if bucket.count:
                    review.list_incidents(store, lead, reports.drill_down(board, dimension, bucket.code))


def test_the_queue_every_filter_sort_and_action_change(busy_trust):
    sign_in, oak, sent = busy_trust
    store, manager = sign_in("manager")
    rows = queue.list_queue(store, manager).rows
    assert rows and queue.queue_counts(store, manager) and queue.overdue_count(store, manager) >= 0
    for sort in QUEUE_SORTS:
        queue.list_queue(store, manager, QueueQuery(sort=sort, descending=True))
    for query in (QueueQuery(ward_id=oak), QueueQuery(type_code="SS-SA"), QueueQuery(owner="ward_manager"),
                  *(QueueQuery(due=due) for due in ("overdue", "today", "week", "later"))):
        queue.list_queue(store, manager, query)
        queue.queue_counts(store, manager, query)
    first, second = rows[0], rows[1]
    queue.assignable_users(store, manager, first.action_id)
    queue.reassign_action(store, manager, first.action_id, user_id=manager.user_id)
    incidents.complete_action(store, manager, first.action_id, note=NOTE, reference="REF 1")
    queue.reopen_action(store, manager, first.action_id, "Done too early: the family were not told.")
    incidents.mark_action_not_applicable(store, manager, second.action_id, "No contact took place at all.")
    added = queue.add_action(store, manager, sent[0].incident_id, title="Check the ward rota",
                             owner_role="ward_manager", due_at=utcnow() + timedelta(days=1))
    assert added.status == "open"
    queue.ward_choices(store, manager)


def test_every_review_change_history_and_view_log(busy_trust):
    sign_in, oak, sent = busy_trust
    store, manager = sign_in("manager")
    one = sent[1].incident_id
    seen = incidents.start_review(store, manager, one).version
    seen = incidents.confirm_harm(store, manager, one, "low", "low", "Checked with the patient.",
                                  seen_version=seen).version
    seen = incidents.set_feedback(store, manager, one, "Thank you for reporting this.", seen_version=seen).version
    incidents.update_incident(store, manager, one, draft(oak, shift="day"), reason="The shift was wrong",
                              seen_version=seen)
    lead_store, lead = sign_in("lead")  # every open action set aside (some are the lead's), then it can close
    for action in incidents.get_incident(lead_store, lead, one).actions:
        if action.status == "open":
            incidents.mark_action_not_applicable(lead_store, lead, action.action_id, "Not needed: a test record.")
    incidents.close_incident(store, manager, one)
    incidents.reopen_incident(store, manager, one, "New information from the police.")
    assert len(incidents.list_versions(store, manager, one)) >= 3
    assert review.incident_history(store, manager, one)
    assert review.incident_versions(store, manager, one)
    incidents.get_incident(lead_store, lead, sent[2].incident_id)  # the restricted one
    assert review.restricted_view_log(lead_store, lead)


def test_every_export_kind(busy_trust, tmp_path):
    sign_in, oak, sent = busy_trust
    store, lead = sign_in("lead")
    for kind in exports.DATASET_KINDS:
        result = exports.export_incidents(store, lead, kind, out_path=tmp_path / f"all.{kind}")
        assert result.incident_count == 4, kind
        assert exports.incidents_needing_reexport(store, lead, kind) == []
    exports.incident_pdf(store, lead, sent[0].incident_id, tmp_path / "one.pdf")
    exports.ward_report_pdf(store, lead, ward_id=oak, date_from=date.today() - timedelta(days=30),
                            date_to=date.today(), out_path=tmp_path / "ward.pdf")
    exports.find_identifiers(store, lead)
    assert exports.incident_id_for_reference(store, lead, sent[0].reference) == sent[0].incident_id
