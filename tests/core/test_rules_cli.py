"""`rules check FILE.json`: JSON out for a good file, one plain line and exit 2 for bad input."""

from __future__ import annotations

import io
import json
from datetime import datetime

from cli.rules import EXIT_BAD_INPUT, EXIT_CONFIG, EXIT_OK, rules_check

INCIDENT = {
    "types": ["SS-SA"],
    "occurred_at": "2026-03-14T21:40:00+00:00",
    "reported_at": "2026-03-14T22:05:00+00:00",
    "location": "lounge",
    "people": [
        {"role": "affected", "type": "patient", "age_years": 34, "detained": True, "capacity_concern": False,
         "care_support_needs": True, "police_wishes": "undecided"},
        {"role": "alleged_perpetrator", "type": "patient"},
    ],
    "flags": {"physical_contact": True, "penetration_alleged": False},
    "harm": {"physical": "none", "psychological": "moderate"},
}


def run(path, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    code = rules_check(str(path), out, err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def test_good_file_prints_the_actions_as_json(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(INCIDENT), encoding="utf-8")
    code, out, err = run(path)
    assert (code, err) == (EXIT_OK, "")
    actions = json.loads(out)
    assert actions[0] == {
        "rule": "safety-separate",
        "title": "Make everyone safe now",
        "due": "2026-03-14T22:05:00+00:00",
        "owner_role": "nurse",
        "mandatory": True,
        "basis": "national",
        "requires_reference": False,
        "checks": [],
        "window_closed_at": None,
        "source": actions[0]["source"],
    }
    assert all(set(a) == {"rule", "title", "due", "owner_role", "mandatory", "basis", "requires_reference", "checks",
                          "window_closed_at", "source"} for a in actions)
    assert "adult-safeguarding-concern" in {a["rule"] for a in actions}
    dues = [datetime.fromisoformat(a["due"]) for a in actions]
    assert all(d.utcoffset() is not None for d in dues) and dues == sorted(dues)


def test_summer_times_carry_the_bst_offset(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps({**INCIDENT, "occurred_at": "2026-07-01T10:00:00+01:00",
                                "reported_at": "2026-07-01T10:30:00+01:00"}), encoding="utf-8")
    code, out, _ = run(path)
    assert code == EXIT_OK
    assert json.loads(out)[0]["due"] == "2026-07-01T10:30:00+01:00"


def test_missing_file(tmp_path):
    code, out, err = run(tmp_path / "nowhere.json")
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1 and "no such file" in err and "Traceback" not in err


def test_file_that_is_not_json(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text("{types: [SS-SA]}", encoding="utf-8")
    code, out, err = run(path)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1 and "is not valid JSON" in err and "line 1" in err


def test_file_with_bad_values(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps({**INCIDENT, "types": ["SS-NOPE"], "occurred_at": "2026-03-14T21:40:00"}),
                    encoding="utf-8")
    code, out, err = run(path)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1
    assert "SS-NOPE" in err and "no time zone offset" in err and str(path) in err


def test_binary_file(tmp_path):
    path = tmp_path / "incident.json"
    path.write_bytes(b"\xff\xfe\x00bad")
    code, _, err = run(path)
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1


def test_a_directory_instead_of_a_file(tmp_path):
    code, _, err = run(tmp_path)
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1 and "Cannot read" in err


def test_override_file_is_used_and_a_bad_one_is_reported(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(INCIDENT), encoding="utf-8")
    good = tmp_path / "trust.toml"
    good.write_text('version = 1\n[[change]]\nid = "safety-separate"\nowner_role = "ward_manager"\n', "utf-8")
    code, out, _ = run(path, override_path=str(good))
    assert code == EXIT_OK and json.loads(out)[0]["owner_role"] == "ward_manager"
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[[change]]\nid = "safety-separate"\ndisabled = true\n', "utf-8")
    code, out, err = run(path, override_path=str(bad))
    assert code == EXIT_CONFIG and out == "" and err.count("\n") == 1
    assert "cannot be disabled" in err


def test_the_examples_in_the_incident_json_doc_still_hold():
    from core.rules import evaluate, facts_from_json, load_rules
    from core.taxonomy import RESOURCES

    doc = (RESOURCES.parent / "docs" / "incident-json.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in doc.split("```json\n")[1:]]
    inputs = [json.loads(b) for b in blocks if b.lstrip().startswith("{")]
    counts = [len(evaluate(facts_from_json(obj), load_rules())) for obj in inputs]
    assert counts == [18, 11, 27]  # issue 12: blank answers are checks; wishes drive the police; ISVA
    assert inputs[0] == INCIDENT


# --- issue 12 (J): input that names its field, and odd files refused in one plain line ------------------------

def test_an_error_names_the_field_it_is_about(tmp_path):
    path = tmp_path / "incident.json"
    bad = {**INCIDENT, "people": [{"role": "affected", "type": "patient", "age_years": 300}]}
    path.write_text(json.dumps(bad), encoding="utf-8")
    code, out, err = run(path)
    assert code == EXIT_BAD_INPUT and out == "" and err.count("\n") == 1
    assert "people[0].age_years: must be a whole number of years from 0 to 120" in err


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "incident.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(INCIDENT).encode("utf-8"))
    code, out, err = run(path)
    assert code == 0 and err == "" and json.loads(out)


def test_year_9999_is_refused_in_one_plain_line(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps({**INCIDENT, "occurred_at": "9999-12-31T23:59:00-05:00",
                                "reported_at": "9999-12-31T23:59:00-05:00"}), encoding="utf-8")
    code, out, err = run(path)
    assert code == EXIT_BAD_INPUT and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "occurred_at: the year 9999 is not plausible" in err


def test_deeply_nested_input_is_refused_in_one_plain_line(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, out, err = run(path)
    assert code == EXIT_BAD_INPUT and out == "" and err.count("\n") == 1 and "nested too deeply" in err


def test_a_report_time_in_the_future_is_refused(tmp_path):
    from datetime import UTC, datetime, timedelta

    soon = datetime.now(UTC) + timedelta(hours=2)
    path = tmp_path / "incident.json"
    path.write_text(json.dumps({**INCIDENT, "occurred_at": (soon - timedelta(hours=1)).isoformat(),
                                "reported_at": soon.isoformat()}), encoding="utf-8")
    code, _, err = run(path)
    assert code == EXIT_BAD_INPUT and "reported_at: is in the future" in err


def test_each_action_says_whether_its_deadline_is_national_or_local(tmp_path):
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(INCIDENT), encoding="utf-8")
    code, out, _ = run(path)
    actions = {a["rule"]: a for a in json.loads(out)}
    assert code == 0
    assert {a["basis"] for a in actions.values()} == {"national", "local policy (a trust may change it)"}
