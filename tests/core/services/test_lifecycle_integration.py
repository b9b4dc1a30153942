"""The incident services and the rules engine together, on a real encrypted store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import utcnow
from core.dto import IncidentDraft, PersonDraft
from core.errors import ValidationError
from core.services import incidents


def _assault_draft(ward_id: int) -> IncidentDraft:
    return IncidentDraft(
        ward_id=ward_id, types=("SS-SA",), occurred_at=utcnow() - timedelta(hours=1), location="lounge",
        people=(PersonDraft("affected", "patient", "PT-0001", harm_physical="none", harm_psychological="low",
                            police_wishes="undecided"),
                PersonDraft("alleged_perpetrator", "patient", "PT-0002")),
        flags=("physical_contact",), description="Synthetic test incident.")


def test_confirming_harm_completes_the_grading_action_and_clears_the_flag(make_store):
    store, actors, _recovery, wards = make_store()
    nurse, manager = actors["nurse"], actors["manager"]
    draft = incidents.create_draft(store, nurse, _assault_draft(wards["Oak Ward"]))
    submitted = incidents.submit(store, nurse, draft.incident_id)
    assert submitted.harm_confirmation_needed
    grading = [a for a in submitted.actions if a.rule_id == incidents.HARM_CONFIRM_RULE]
    assert grading and grading[0].status == "open"

    with pytest.raises(ValidationError):
        incidents.close_incident(store, manager, draft.incident_id)

    confirmed = incidents.confirm_harm(store, manager, draft.incident_id, "none", "moderate", "spoke to patient")
    assert not confirmed.harm_confirmation_needed and confirmed.pd09 == 3
    assert [a.status for a in confirmed.actions if a.rule_id == incidents.HARM_CONFIRM_RULE] == ["done"]
    versions = incidents.list_versions(store, manager, draft.incident_id)
    assert versions[-1].reason == "spoke to patient"


def test_trust_override_file_changes_the_actions_the_app_creates(make_store, tmp_path, monkeypatch):
    store, actors, _recovery, wards = make_store()
    override = tmp_path / "rules-local.toml"
    override.write_text(
        'version = 1\n\n[[rules]]\nid = "local-ward-round"\ntitle = "Discuss at the next ward round"\n'
        'guidance = "Bring it to the ward round."\nwhy = "Local policy."\nwhen = { always = true }\n'
        'deadline = { kind = "working_days", n = 2, from = "reported" }\nowner_role = "ward_manager"\n'
        'mandatory = false\nsource = "Synthetic trust policy for tests."\n', encoding="utf-8")
    monkeypatch.setenv("LANTERN_RULES_OVERRIDE", str(override))
    draft = incidents.create_draft(store, actors["nurse"], _assault_draft(wards["Oak Ward"]))
    submitted = incidents.submit(store, actors["nurse"], draft.incident_id)
    assert "local-ward-round" in {a.rule_id for a in submitted.actions}
    monkeypatch.delenv("LANTERN_RULES_OVERRIDE")
    assert "local-ward-round" not in {a.rule_id for a in incidents.actions_for(_assault_draft(1), utcnow())}


def test_recovery_key_file_is_private_and_throttle_file_is_bounded(tmp_path):
    import io
    import os
    import stat

    from cli.main import run
    from core.security.throttle import MAX_ACCOUNTS, Throttle

    key_file = tmp_path / "recovery.txt"
    code = run(["init", "--store", str(tmp_path / "s"), "--org", "RXX", "--ward", "Oak Ward", "--admin", "admin",
                "--password-stdin", "--recovery-key-file", str(key_file)],
               stdin=io.StringIO("test-only passphrase 42\n"), stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    throttle = Throttle(tmp_path)
    for i in range(MAX_ACCOUNTS + 20):
        throttle.failed(f"nobody{i}", "test-pc", known=False)
    assert len(throttle._load()["unknown"]) == MAX_ACCOUNTS
    assert throttle.failures(f"nobody{MAX_ACCOUNTS + 19}") == 1
