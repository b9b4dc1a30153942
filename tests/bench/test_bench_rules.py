"""Benchmarks: loading the taxonomy and rules from disk, evaluating one incident, and `rules check`.

Targets (issue 3): taxonomy and rules load in under 50 ms; `rules check` answers in under a second.
These record timings only; they never assert them. Run with `pytest tests/bench`.
"""

from __future__ import annotations

import io
import json

from cli.rules import rules_check
from core.rules import DEFAULT_RULES_PATH, evaluate, facts_from_json, load_rules
from core.taxonomy import DEFAULT_TAXONOMY_PATH, load_taxonomy

INCIDENT = {
    "types": ["SS-SA", "SS-HAR-V"],
    "occurred_at": "2026-12-24T16:00:00+00:00",
    "reported_at": "2026-12-24T17:00:00+00:00",
    "location": "other_patient_bedroom",
    "people": [
        {"role": "affected", "type": "patient", "age_years": 17, "sex": "female", "detained": True,
         "capacity_concern": True, "care_support_needs": True, "police_wishes": "undecided"},
        {"role": "alleged_perpetrator", "type": "staff"},
        {"role": "witness", "type": "patient"},
    ],
    "flags": {"physical_contact": True, "penetration_alleged": True, "mixed_sex_breach": True},
    "harm": {"physical": "low", "psychological": "moderate"},
}


def _load_uncached():
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY_PATH)  # an explicit path bypasses the cache
    return load_rules(DEFAULT_RULES_PATH, taxonomy=taxonomy)


def test_bench_load_taxonomy_and_rules_uncached(benchmark):
    ruleset = benchmark(_load_uncached)
    assert ruleset.rules


def test_bench_evaluate_one_incident(benchmark):
    facts = facts_from_json(INCIDENT)
    ruleset = load_rules()
    actions = benchmark(evaluate, facts, ruleset)
    assert actions


def test_bench_rules_check(benchmark, tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(INCIDENT), encoding="utf-8")

    def check():
        return rules_check(str(path), io.StringIO(), io.StringIO())

    assert benchmark(check) == 0
