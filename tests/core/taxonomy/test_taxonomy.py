"""Tests for the taxonomy: the shipped file, malformed files, and the derived values."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from core.errors import ConfigError
from core.taxonomy import (
    ASSAULT_CODES,
    DEFAULT_TAXONOMY_PATH,
    all_pairs,
    derive_pair,
    derive_pd09,
    load_taxonomy,
    needs_harm_confirmation,
    pair_label,
)
from core.taxonomy.derive import PERSON_TYPE_ORDER
from core.taxonomy.loader import PHYSICAL_LEVELS, PSYCHOLOGICAL_LEVELS

TYPE_CODES = [
    "SS-RAPE", "SS-APEN", "SS-SA", "SS-SA-MD", "SS-STAFF", "SS-HAR-V", "SS-HAR-NV", "SS-EXP-S",
    "SS-NUD-NS", "SS-VOY", "SS-ONLINE", "SS-EXPL", "SS-ACT-CONS", "SS-DISCL-HIST",
    # Issue 12 (D), added after the existing types so the form's order of those does not change.
    "SS-IMG-CHILD", "SS-CSE", "SS-TRAFFIC", "SS-DFSA", "SS-DA-VISIT",
    "SS-OTHER",
]


# --- the shipped file ------------------------------------------------------------------------------

def test_shipped_taxonomy_has_every_type_with_its_fields():
    taxonomy = load_taxonomy()
    assert taxonomy.version == 1
    assert list(taxonomy.type_codes) == TYPE_CODES
    for incident_type in taxonomy.incident_types:
        assert incident_type.label and incident_type.definition and incident_type.basis
        assert incident_type.cqc_bucket
        assert 1 <= len(incident_type.examples) <= 2


def test_shipped_code_lists():
    taxonomy = load_taxonomy()
    assert taxonomy.codes("person_roles") == ("affected", "alleged_perpetrator", "witness")
    assert taxonomy.codes("person_types") == ("patient", "staff", "bank_or_agency", "contractor", "volunteer",
                                              "visitor", "other", "unknown")
    assert set(taxonomy.codes("person_types")) == set(PERSON_TYPE_ORDER)  # every pair has a place in reports
    assert taxonomy.codes("police_wishes") == ("yes", "no", "undecided", "unable_to_decide")
    assert taxonomy.codes("shifts") == ("day", "night", "morning_handover", "evening_handover")
    assert taxonomy.codes("harm_physical") == PHYSICAL_LEVELS
    assert taxonomy.codes("harm_psychological") == PSYCHOLOGICAL_LEVELS
    assert taxonomy.codes("context_flags") == (
        "physical_contact", "penetration_alleged", "penile_penetration_or_ejaculation", "weapon_or_violence",
        "mixed_sex_breach", "repeat_incident")
    assert len(taxonomy.codes("locations")) == 15
    assert taxonomy.label("locations", "other_patient_bedroom") == "Another patient's bedroom"
    assert [band.lfpse for band in taxonomy.age_bands] == list(range(1, 13))


def test_harm_levels_carry_guidance_and_rank():
    taxonomy = load_taxonomy()
    assert taxonomy.harm_level("physical", "none").rank == 0
    assert taxonomy.harm_level("physical", "fatal").rank == 4
    assert taxonomy.harm_level("psychological", "severe").lfpse == 1
    assert all(level.guidance for level in taxonomy.harm_psychological)


def test_assault_codes_match_the_assault_category():
    assert load_taxonomy().codes_in_category("assault") == ASSAULT_CODES


def test_default_load_is_cached_and_explicit_path_is_not():
    assert load_taxonomy() is load_taxonomy()
    assert load_taxonomy(DEFAULT_TAXONOMY_PATH) is not load_taxonomy()
    assert load_taxonomy(DEFAULT_TAXONOMY_PATH) == load_taxonomy()


def test_label_helpers():
    taxonomy = load_taxonomy()
    assert taxonomy.type_label("SS-SA") == "Sexual assault (touching)"
    assert taxonomy.label("shifts", "no-such-code") == "no-such-code"
    assert taxonomy.has("sexes", "female") and not taxonomy.has("sexes", "dragon")


# --- malformed files -------------------------------------------------------------------------------

def _shipped_text() -> str:
    return DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad-taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "entry", "problem"),
    [
        (lambda t: t.replace("version = 1", "version = 7", 1), "version", "expected version = 1"),
        (lambda t: t.replace('code = "SS-APEN"', 'code = "SS-RAPE"'), "incident_types entry 2 (SS-RAPE)", "used twice"),
        (lambda t: t.replace('category = "harassment"', 'category = "rudeness"', 1),
         "incident_types entry 6 (SS-HAR-V)", "'category' is 'rudeness'"),
        (lambda t: t.replace('cqc_bucket = "Alleged rape"\n', ""), "incident_types entry 1 (SS-RAPE)",
         "'cqc_bucket' is missing"),
        (lambda t: t.replace('code = "SS-VOY"', 'code = "SS-VOY"\ncolour = "red"'),
         "incident_types entry 10 (SS-VOY)", "unknown key 'colour'"),
        (lambda t: t.replace('code = "fatal"', 'code = "dead"'), "harm_physical", "exactly none, low"),
        (lambda t: t.replace('code = "witness"', 'code = "observer"'), "person_roles", "'witness' is missing"),
        (lambda t: t.replace("min_years = 66", "min_years = 90"), "age_bands entry 11 (66_85)",
         "smaller than 'min_years'"),
        (lambda t: t.replace("possible_offence = false", 'possible_offence = "no"', 1),
         "incident_types entry 6 (SS-HAR-V)", "'possible_offence' must be true or false"),
        (lambda t: t + "\n[[moods]]\ncode = 'x'\nlabel = 'y'\n", "moods", "unknown section"),
    ],
)
def test_malformed_file_names_file_entry_and_problem(tmp_path, change, entry, problem):
    path = _write(tmp_path, change(_shipped_text()))
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(path)
    err = caught.value
    assert "bad-taxonomy.toml" in err.file
    assert err.entry == entry
    assert problem in err.problem
    assert str(err).startswith(str(path))


def test_invalid_toml_is_a_config_error(tmp_path):
    path = _write(tmp_path, "version = 1\n[[incident_types]\n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_taxonomy(path)
    assert caught.value.entry == "file"


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_taxonomy(tmp_path / "nowhere.toml")


def test_too_many_examples(tmp_path):
    text = _shipped_text().replace(
        'examples = [\n    "A patient shows other patients pornography',
        'examples = [\n    "one",\n    "two",\n    "A patient shows other patients pornography')
    with pytest.raises(ConfigError, match="'examples' must have 1 to 2 items, found 4"):
        load_taxonomy(_write(tmp_path, text))


# --- derived values --------------------------------------------------------------------------------

def _people(*pairs):
    return [{"role": role, "type": kind} for role, kind in pairs]


@pytest.mark.parametrize(
    ("people", "pair"),
    [
        (_people(("alleged_perpetrator", "patient"), ("affected", "patient")), "patient_on_patient"),
        (_people(("alleged_perpetrator", "patient"), ("affected", "staff")), "patient_on_staff"),
        (_people(("alleged_perpetrator", "staff"), ("affected", "patient")), "staff_on_patient"),
        (_people(("alleged_perpetrator", "staff"), ("affected", "staff")), "staff_on_staff"),
        (_people(("alleged_perpetrator", "visitor"), ("affected", "patient")), "visitor_on_patient"),
        (_people(("affected", "patient")), "unknown_on_patient"),
        (_people(("alleged_perpetrator", "patient")), "patient_on_unknown"),
        (_people(("alleged_perpetrator", "patient"), ("affected", "patient"), ("witness", "staff")),
         "patient_on_patient"),
        (_people(("alleged_perpetrator", "patient"), ("alleged_perpetrator", "patient"), ("affected", "staff")),
         "patient_on_staff"),
        (_people(("alleged_perpetrator", "patient"), ("affected", "patient"), ("affected", "staff")), "mixed"),
        (_people(("alleged_perpetrator", "patient"), ("alleged_perpetrator", "visitor"), ("affected", "patient")),
         "mixed"),
        ([], "unknown_on_unknown"),
    ],
)
def test_derive_pair(people, pair):
    assert derive_pair(people) == pair
    assert pair in all_pairs()


def test_derive_pair_accepts_objects():
    people = [SimpleNamespace(role="alleged_perpetrator", type="visitor"),
              SimpleNamespace(role="affected", type="staff")]
    assert derive_pair(people) == "visitor_on_staff"
    rows = [SimpleNamespace(role="alleged_perpetrator", person_type="staff"),
            SimpleNamespace(role="affected", person_type="patient")]
    assert derive_pair(rows) == "staff_on_patient"


def test_pair_label():
    assert pair_label("patient_on_staff") == "Patient on staff"
    assert pair_label("mixed").startswith("Mixed")


@pytest.mark.parametrize(
    ("physical", "psychological", "pd09"),
    [
        ("none", "none", 1),
        ("low", "none", 2),
        ("none", "low", 2),
        ("none", "moderate", 3),
        ("moderate", "low", 3),
        ("low", "severe", 4),
        ("severe", "none", 4),
        ("fatal", "none", 5),
        ("fatal", "severe", 5),
    ],
)
def test_derive_pd09_takes_the_worse(physical, psychological, pd09):
    assert derive_pd09(physical, psychological) == pd09


@pytest.mark.parametrize(("physical", "psychological"), [("bad", "none"), ("none", "fatal"), (None, "none")])
def test_derive_pd09_rejects_unknown_levels(physical, psychological):
    with pytest.raises(ValueError):
        derive_pd09(physical, psychological)


@pytest.mark.parametrize(
    ("types", "harms", "flags", "expected"),
    [
        ({"SS-SA"}, [("none", "low")], (), True),
        ({"SS-RAPE", "SS-HAR-V"}, [("low", "low"), ("none", "none")], (), True),
        ({"SS-APEN"}, [("none", "moderate")], (), False),
        ({"SS-SA-MD"}, [("low", "low"), ("none", "severe")], (), False),
        ({"SS-HAR-V"}, [("none", "none")], (), False),
        ({"SS-OTHER"}, [("none", "none")], ("penetration_alleged",), True),
        ({"SS-SA"}, [], (), True),
        ({"SS-SA"}, [(None, None)], (), True),
    ],
)
def test_needs_harm_confirmation(types, harms, flags, expected):
    assert needs_harm_confirmation(types, harms, flags) is expected
