"""Never a silent overwrite (issue 16 item 4): a review save names the version the manager opened; a newer change
by someone else refuses it, saying when, who and what changed, and nothing of the refused save is written.
(tests/pg/test_pg_concurrency.py runs the same on a server, with two PCs saving at the same moment.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.errors import ChangedElsewhere
from core.services import incidents
from tests.core.manager_helpers import draft, report


def test_a_save_over_a_newer_change_is_refused_and_says_what_changed(fresh):
    manager, lead, oak = fresh.actors["manager"], fresh.actors["lead"], fresh.wards["Oak Ward"]
    sent = report(fresh.store, fresh.actors["nurse"], oak)
    seen = incidents.get_incident(fresh.store, manager, sent.incident_id).version
    incidents.confirm_harm(fresh.store, lead, sent.incident_id, "low", "moderate", seen_version=seen)
    edited = replace(draft(oak), description="Synthetic: the manager's rewording.")
    with pytest.raises(ChangedElsewhere) as err:
        incidents.update_incident(fresh.store, manager, sent.incident_id, edited, reason="Clearer wording",
                                  seen_version=seen)
    assert "(lead)" in str(err.value) and "harm" in str(err.value) and "what happened" not in str(err.value)
    after = incidents.get_incident(fresh.store, lead, sent.incident_id)
    assert after.draft.description == sent.draft.description and after.harm_psychological == "moderate"
    # Opened again, the manager's save goes through.
    incidents.update_incident(fresh.store, manager, sent.incident_id, edited, reason="Clearer wording",
                              seen_version=after.version)
    assert incidents.get_incident(fresh.store, lead, sent.incident_id).draft.description.endswith("rewording.")


def test_feedback_is_never_replaced_unseen(fresh):
    manager, lead, oak = fresh.actors["manager"], fresh.actors["lead"], fresh.wards["Oak Ward"]
    sent = report(fresh.store, fresh.actors["nurse"], oak)
    seen = sent.version
    incidents.set_feedback(fresh.store, lead, sent.incident_id, "Thank you: the police were told.",
                           seen_version=seen)
    with pytest.raises(ChangedElsewhere, match="feedback to the reporter"):
        incidents.set_feedback(fresh.store, manager, sent.incident_id, "Thanks.", seen_version=seen)
    kept = incidents.list_versions(fresh.store, lead, sent.incident_id)
    assert [v.reason for v in kept] == ["feedback to the reporter changed"]
    assert incidents.get_incident(fresh.store, lead, sent.incident_id).feedback_note.startswith("Thank you")
