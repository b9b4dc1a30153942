"""Issue 13 item 9: an unsubmitted draft is readable by its author only, whatever the reader's role or ward."""

from __future__ import annotations

import pytest

from core.errors import NotFound
from core.services import incidents
from tests.core.helpers_common import draft


@pytest.mark.parametrize("reader", ["nurse2", "manager", "lead"])
def test_a_colleagues_draft_cannot_be_read(fresh, reader):
    store, actors = fresh.store, fresh.actors
    mine = incidents.create_draft(store, actors["nurse"], draft(fresh.wards["Oak Ward"]))
    assert incidents.get_incident(store, actors["nurse"], mine.incident_id).incident_id == mine.incident_id
    with pytest.raises(NotFound) as err:
        incidents.get_incident(store, actors[reader], mine.incident_id)
    assert str(err.value) == "That incident does not exist or is not one you can see."


def test_once_submitted_the_ward_can_read_it(fresh):
    store, actors = fresh.store, fresh.actors
    mine = incidents.create_draft(store, actors["nurse"], draft(fresh.wards["Oak Ward"]))
    incidents.submit(store, actors["nurse"], mine.incident_id)
    for reader in ("nurse2", "manager", "lead"):
        assert incidents.get_incident(store, actors[reader], mine.incident_id).incident_id == mine.incident_id
