"""Many PCs at once on one server (issue 16 item 4): two managers saving the same incident at the same moment,
from two connections, never overwrite each other silently; references stay unique under concurrent reports."""

from __future__ import annotations

import threading
from dataclasses import replace

from core.errors import ChangedElsewhere
from core.services import incidents
from tests.core.helpers_common import draft


def test_two_saves_at_the_same_moment_one_wins_the_other_is_told(trust):
    sign_in, oak = trust
    nurse_store, nurse = sign_in("nurse")
    sent = incidents.submit_report(nurse_store, nurse, draft(oak))
    (manager_store, manager), (lead_store, lead) = sign_in("manager"), sign_in("lead")
    seen = incidents.get_incident(manager_store, manager, sent.incident_id).version
    start, outcomes = threading.Barrier(2), {}

    def save(name, store, actor, text):
        start.wait()
        try:
            incidents.update_incident(store, actor, sent.incident_id, replace(draft(oak), description=text),
                                      reason="Clearer wording", seen_version=seen)
            outcomes[name] = "saved"
        except ChangedElsewhere as err:
            outcomes[name] = str(err)

    threads = [threading.Thread(target=save, args=("manager", manager_store, manager, "Synthetic: manager's.")),
               threading.Thread(target=save, args=("lead", lead_store, lead, "Synthetic: lead's."))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(v == "saved" for v in outcomes.values()) == [False, True], outcomes
    winner = next(k for k, v in outcomes.items() if v == "saved")
    loser_message = next(v for v in outcomes.values() if v != "saved")
    assert f"({winner})" in loser_message and "what happened" in loser_message
    final = incidents.get_incident(lead_store, lead, sent.incident_id)
    assert final.draft.description == ("Synthetic: manager's." if winner == "manager" else "Synthetic: lead's.")
    assert final.version == seen + 1


def test_reports_from_many_pcs_at_once_get_unique_references(trust):
    sign_in, oak = trust
    stores = [sign_in("nurse") for _ in range(4)]
    references, errors = [], []

    def send(store, actor):
        try:
            for _ in range(5):
                references.append(incidents.submit_report(store, actor, draft(oak)).reference)
        except Exception as err:  # noqa: BLE001 - the test reports any failure below
            errors.append(repr(err))

    threads = [threading.Thread(target=send, args=pair) for pair in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert len(references) == 20 and len(set(references)) == 20
