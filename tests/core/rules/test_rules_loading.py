"""Loading the rules: the shipped file, malformed files, trust overrides and the generated catalogue."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.rules import (
    DEFAULT_RULES_PATH,
    LONDON,
    OWNER_ROLES,
    Deadline,
    IncidentFacts,
    PersonFacts,
    evaluate,
    load_rules,
)
from core.rules.catalogue import describe_when, render
from core.taxonomy import RESOURCES, load_taxonomy

REPO = RESOURCES.parent

GOOD_RULE = """
[[rules]]
id = "example-rule"
title = "Do the thing"
guidance = "Do it carefully."
why = "Because it matters."
deadline = { kind = "hours", n = 4, from = "reported" }
owner_role = "nurse"
mandatory = true
basis = "local"
source = "Local policy"
[rules.when]
types_any = ["SS-SA"]
"""


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def facts(types=("SS-SA",), people=(), flags=()) -> IncidentFacts:
    occurred = datetime(2026, 3, 10, 14, 0, tzinfo=LONDON)
    return IncidentFacts(types=frozenset(types), occurred_at=occurred, reported_at=occurred + timedelta(minutes=30),
                         people=tuple(people), flags=frozenset(flags))


# --- the shipped rules -----------------------------------------------------------------------------

def test_shipped_rules_load_and_are_well_formed():
    ruleset = load_rules()
    assert ruleset.version == 1
    assert len(ruleset.ids) == len(set(ruleset.ids)) >= 23
    for rule in ruleset.rules:
        assert rule.owner_role in OWNER_ROLES
        assert rule.title and rule.guidance and rule.why and rule.source
        assert "\n" not in rule.why


def test_every_source_cites_national_guidance_or_law_never_a_design_note_or_a_web_page():
    # Issue 12 (G): a trust must be able to check every rule against a national source.
    for rule in load_rules().rules:
        assert not re.search(r"domain\.md|row \d|https?:|www\.|\.co\.uk|\.org", rule.source), rule.id
        assert re.search(r"(19|20)\d\d", rule.source), f"{rule.id}: name the year of the guidance or Act"
        assert rule.basis in ("national", "local"), rule.id


def test_the_police_rules_cover_every_possible_offence_type():
    offences = {t.code for t in load_taxonomy().incident_types if t.possible_offence}
    for rule_id in ("police-report-now", "police-wishes-ask", "police-decision-record"):
        assert offences <= load_rules().rule(rule_id).when.types_any, rule_id


def test_default_load_is_cached():
    assert load_rules() is load_rules()
    assert load_rules(DEFAULT_RULES_PATH) is not load_rules()


def test_rules_and_taxonomy_are_hashable_values():
    assert len({*load_rules().rules}) == len(load_rules().rules)
    assert hash(load_rules()) == hash(load_rules(DEFAULT_RULES_PATH))
    assert hash(load_taxonomy())


def test_rule_lookup():
    ruleset = load_rules()
    assert ruleset.rule("duty-of-candour").deadline == Deadline("working_days", 10, "reported")
    with pytest.raises(KeyError):
        ruleset.rule("no-such-rule")


# --- malformed rules files -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "entry", "problem"),
    [
        (lambda t: t.replace('types_any = ["SS-SA"]', 'types_any = ["SS-NOPE"]'), "rule example-rule",
         "'when.types_any' has unknown code 'SS-NOPE'"),
        (lambda t: t.replace('types_any = ["SS-SA"]', 'colour_is = "red"'), "rule example-rule",
         "unknown test 'colour_is'"),
        (lambda t: t.replace('types_any = ["SS-SA"]', 'person = { role = "affected", shoe_size = 9 }'),
         "rule example-rule", "'when.person' has unknown key 'shoe_size'"),
        (lambda t: t.replace('types_any = ["SS-SA"]', 'person = { role = "bystander" }'),
         "rule example-rule", "'when.person.role' has unknown code 'bystander'"),
        (lambda t: t.replace('types_any = ["SS-SA"]', 'harm_at_least = { physical = "catastrophic" }'),
         "rule example-rule", "'when.harm_at_least.physical' must be one of"),
        (lambda t: t.replace('types_any = ["SS-SA"]', 'any_of = [{ flags_any = ["physical_contact"] }, { x = 1 }]'),
         "rule example-rule", "'when.any_of[1]' has unknown test 'x'"),
        (lambda t: t.replace('types_any = ["SS-SA"]', 'always = true\ntypes_any = ["SS-SA"]'),
         "rule example-rule", "'always' must be 'always = true' and the only test"),
        (lambda t: t.replace('[rules.when]\ntypes_any = ["SS-SA"]', ""), "rule example-rule", "'when' is missing"),
        (lambda t: t.replace('kind = "hours"', 'kind = "fortnights"'), "rule example-rule",
         "'kind' is 'fortnights'"),
        (lambda t: t.replace(', from = "reported"', ""), "rule example-rule", "needs 'n' (how many) and 'from'"),
        (lambda t: t.replace('{ kind = "hours", n = 4, from = "reported" }', '{ kind = "immediate", n = 1 }'),
         "rule example-rule", "an immediate deadline takes no 'n'"),
        (lambda t: t.replace("n = 4", "n = 0"), "rule example-rule", "'n' must be a whole number of at least 1"),
        (lambda t: t.replace('owner_role = "nurse"', 'owner_role = "porter"'), "rule example-rule",
         "'owner_role' is 'porter'"),
        (lambda t: t.replace("mandatory = true", 'mandatory = "yes"'), "rule example-rule",
         "'mandatory' must be true or false"),
        (lambda t: t.replace('source = "Local policy"\n', ""), "rule example-rule", "'source' is missing"),
        (lambda t: t.replace('id = "example-rule"', 'id = "Example Rule"'), "rule Example Rule",
         "must be lower-case words joined by hyphens"),
        (lambda t: t.replace('title = "Do the thing"', 'title = "Do the thing"\nnotes = "x"'), "rule example-rule",
         "unknown key 'notes'"),
        (lambda t: t + GOOD_RULE, "rule example-rule", "already used by another rule"),
        (lambda t: t.replace("version = 1", "version = 2"), "version", "expected version = 1"),
        (lambda t: t.replace("[[rules]]", "[[rule]]", 1), "rule", "unknown section"),
    ],
)
def test_malformed_rules_name_file_entry_and_problem(tmp_path, change, entry, problem):
    path = write(tmp_path, change("version = 1\n" + GOOD_RULE))
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    err = caught.value
    assert err.file == str(path)
    assert err.entry == entry
    assert problem in err.problem, err.problem


def test_a_good_custom_rules_file_loads(tmp_path):
    ruleset = load_rules(write(tmp_path, "version = 1\n" + GOOD_RULE))
    rule = ruleset.rule("example-rule")
    assert rule.owner_label == "Nurse"
    assert [a.rule_id for a in evaluate(facts(), ruleset)] == ["example-rule"]
    assert evaluate(facts(types=("SS-HAR-V",)), ruleset) == []


def test_an_empty_rules_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="there are no rules"):
        load_rules(write(tmp_path, "version = 1\n"))


def test_invalid_toml_in_rules(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules(write(tmp_path, "version = 1\n[[rules]\n"))


def test_nested_conditions_and_person_ages(tmp_path):
    text = GOOD_RULE.replace('types_any = ["SS-SA"]', textwrap.dedent("""\
        person = { role = "affected", age_not_under = 18, sex_in = ["female"] }
        none_of = [{ flags_all = ["physical_contact", "weapon_or_violence"] }]
        location_in = ["bedroom", "other_patient_bedroom"]
        """))
    ruleset = load_rules(write(tmp_path, "version = 1\n" + text))
    woman = PersonFacts("affected", "patient", age_years=40, sex="female")
    girl = PersonFacts("affected", "patient", age_band="16_17", sex="female")

    def fires(people, flags=(), location="bedroom"):
        occurred = datetime(2026, 3, 10, 14, 0, tzinfo=LONDON)
        incident = IncidentFacts(frozenset({"SS-SA"}), occurred, occurred, location, tuple(people), frozenset(flags))
        return bool(evaluate(incident, ruleset))

    assert fires([woman])
    assert fires([PersonFacts("affected", "patient", sex="female")])  # age unknown: not known to be under 18
    assert not fires([girl])
    assert fires([woman], flags=("physical_contact",))
    assert not fires([woman], flags=("physical_contact", "weapon_or_violence"))
    assert not fires([woman], location="lounge")


# --- trust overrides -------------------------------------------------------------------------------

def test_override_changes_deadline_and_owner(tmp_path):
    override = write(tmp_path, """\
        version = 1

        [[change]]
        id = "risk-care-plan-review"
        deadline = { kind = "hours", n = 48, from = "reported" }
        owner_role = "ward_manager"
        owner_label = "Ward manager"

        [[change]]
        id = "notify-sexual-safety-lead"
        owner_role = "safeguarding_lead"
        """, "trust.toml")
    ruleset = load_rules(override_path=override)
    review = ruleset.rule("risk-care-plan-review")
    assert review.deadline == Deadline("hours", 48, "reported")
    assert (review.owner_role, review.owner_label) == ("ward_manager", "Ward manager")
    assert review.changed_locally
    lead = ruleset.rule("notify-sexual-safety-lead")
    assert (lead.owner_role, lead.owner_label) == ("safeguarding_lead", "Safeguarding lead")
    assert lead.deadline == load_rules().rule("notify-sexual-safety-lead").deadline
    assert ruleset.files == (str(DEFAULT_RULES_PATH), str(override))
    assert ruleset.ids == load_rules().ids


def test_override_adds_a_rule(tmp_path):
    override = write(tmp_path, "version = 1\n" + GOOD_RULE.replace("example-rule", "trust-matron-informed"),
                     "trust.toml")
    ruleset = load_rules(override_path=override)
    assert ruleset.ids[-1] == "trust-matron-informed"
    assert ruleset.rule("trust-matron-informed").origin == "trust.toml"
    assert "trust-matron-informed" in {a.rule_id for a in evaluate(facts(), ruleset)}


def test_override_can_disable_a_recommended_rule_and_upgrade_another(tmp_path):
    override = write(tmp_path, """\
        version = 1
        [[change]]
        id = "next-of-kin"
        disabled = true
        [[change]]
        id = "independent-advocacy"
        mandatory = true
        """, "trust.toml")
    ruleset = load_rules(override_path=override)
    assert "next-of-kin" not in ruleset.ids
    assert ruleset.rule("independent-advocacy").mandatory


@pytest.mark.parametrize(
    ("text", "entry", "problem"),
    [
        ('[[change]]\nid = "no-such-rule"\nowner_role = "nurse"\n', "change no-such-rule",
         "there is no rule with id 'no-such-rule'"),
        ('[[change]]\nid = "safety-separate"\ndisabled = true\n', "change safety-separate",
         "a mandatory rule cannot be disabled"),
        ('[[change]]\nid = "duty-of-candour"\nmandatory = false\n', "change duty-of-candour",
         "cannot be made recommended"),
        ('[[change]]\nid = "duty-of-candour"\ntitle = "Something else"\n', "change duty-of-candour",
         "unknown key 'title'"),
        ('[[change]]\nid = "duty-of-candour"\n', "change duty-of-candour", "nothing to change"),
        ('[[change]]\nid = "duty-of-candour"\nowner_role = "administrator"\n', "change duty-of-candour",
         "'owner_role' is 'administrator'"),
        ('[[change]]\nid = "duty-of-candour"\ndeadline = { kind = "days", n = 3, from = "reported" }\n',
         "change duty-of-candour", "'kind' is 'days'"),
        ('[[change]]\nid = "next-of-kin"\ndisabled = true\nowner_role = "nurse"\n', "change next-of-kin",
         "a disabled rule takes no other changes"),
        ('[[change]]\nid = "next-of-kin"\nowner_role = "nurse"\n[[change]]\nid = "next-of-kin"\nowner_role = "nurse"\n',
         "change next-of-kin", "changed twice"),
        (GOOD_RULE.replace("example-rule", "duty-of-candour"), "rule duty-of-candour", "already used"),
        ('[[remove]]\nid = "duty-of-candour"\n', "remove", "unknown section"),
    ],
)
def test_bad_override_is_refused(tmp_path, text, entry, problem):
    override = write(tmp_path, "version = 1\n" + text, "trust.toml")
    with pytest.raises(ConfigError) as caught:
        load_rules(override_path=override)
    assert caught.value.file == str(override)
    assert caught.value.entry == entry
    assert problem in caught.value.problem, caught.value.problem


def test_missing_override_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules(override_path=tmp_path / "absent.toml")


# --- the catalogue ---------------------------------------------------------------------------------

def test_committed_catalogue_matches_the_rules():
    committed = (REPO / "docs" / "safeguarding-rules.md").read_text(encoding="utf-8")
    generated = render(load_rules(), load_taxonomy())
    assert committed == generated, "run: python -m core.rules.catalogue > docs/safeguarding-rules.md"


def test_catalogue_lists_every_rule_with_its_parts():
    text = render(load_rules(), load_taxonomy())
    for rule in load_rules().rules:
        assert f"### `{rule.id}`: {rule.title}" in text
    assert "**Deadline:** within 1 working day of the report. Basis: local policy (a trust may change it)." in text
    assert "**Deadline:** within 1 working day of the report. Basis: national." in text
    assert "Tuesday 29 December 2026" in text


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"always": True}, "every incident"),
        ({"types_any": ["SS-VOY"]}, "the incident is coded as Voyeurism or intimate images (`SS-VOY`)"),
        ({"perpetrator_type_in": ["staff"]}, "an alleged perpetrator is a staff member"),
        ({"person": {"role": "affected", "detained": True}},
         "there is an affected person who is detained under the Mental Health Act"),
        ({"harm_at_least": {"physical": "severe"}}, "the worst physical harm is severe or worse"),
        ({"any_of": [{"flags_any": ["repeat_incident"]}, {"affected_type_in": ["visitor"], "types_any": ["SS-SA"]}]},
         "either the incident is flagged: 'Repeat of an earlier incident'; or (the incident is coded as Sexual "
         "assault (touching) (`SS-SA`) and an affected person is a visitor)"),
    ],
)
def test_describe_when(when, words):
    assert describe_when(when, load_taxonomy()) == words
