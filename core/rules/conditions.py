"""The `when` language of the safeguarding rules: parsed from TOML, matched against IncidentFacts (core layer).

A `when` table holds one or more tests; the rule fires only if every test in it passes.

    always = true                       every incident (must be the only test)
    types_any = ["SS-RAPE", ...]        the incident is coded with at least one of these types
    types_only = ["SS-DISCL-HIST"]      every type the incident is coded with is one of these
    flags_any = ["physical_contact"]    at least one of these context flags is set
    flags_all = [...]                   every one of these flags is set
    location_in = ["bedroom", ...]      the incident happened in one of these places
    perpetrator_type_in = ["staff"]     some alleged perpetrator is of one of these person types
    affected_type_in = ["patient"]      some affected person is of one of these person types
    person = {...}                      some single person matches every key given (see below)
    harm_at_least = {physical = "moderate", psychological = "moderate"}
                                        the worst harm reaches the level on at least one scale given
    occurred_within_hours = 72          the incident was reported within this many hours of happening
    reported_after_hours = 168          the incident was reported more than this many hours after it happened
    any_of = [{...}, {...}]             at least one of these nested conditions holds
    none_of = [{...}, {...}]            none of these nested conditions holds

Keys of `person`: role and type (a code or a list of codes); detained, capacity_concern,
care_support_needs, could_become_pregnant and linked_user, each true, false or "not_known" (an unanswered
question matches only "not_known"); age_under = N (known to be under N: from age_years, an age band wholly
under N, or the under-18 answer), age_not_under = N (not known to be under N, which includes an unknown
age), age_unknown_under = N (no recorded age says whether the person is under N, presumptions aside); police_wishes_in = [...] (codes,
and "not_known" for a person whose wishes are not recorded); sex_in = [...] (a person whose sex is not
recorded counts as "unknown"). The engine applies the presumptions of core.rules.facts.with_presumptions
first (a patient has care and support needs unless answered no; on a CAMHS ward a patient is under 18
unless an age says otherwise).
No code is ever evaluated: each key is checked against a fixed list and against the taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError
from core.rules.deadlines import utc
from core.rules.facts import IncidentFacts, PersonFacts
from core.taxonomy import Taxonomy

CONDITION_KEYS = frozenset({
    "always", "types_any", "types_only", "flags_any", "flags_all", "location_in", "perpetrator_type_in",
    "affected_type_in", "person", "harm_at_least", "occurred_within_hours", "reported_after_hours", "any_of",
    "none_of",
})
AGE_KEYS = ("age_under", "age_not_under", "age_unknown_under")
PERSON_KEYS = frozenset({
    "role", "type", "detained", "capacity_concern", "care_support_needs", "linked_user", "could_become_pregnant",
    *AGE_KEYS, "police_wishes_in", "sex_in",
})
_PERSON_ANSWERS = ("detained", "capacity_concern", "care_support_needs", "linked_user", "could_become_pregnant")
NOT_KNOWN = "not_known"  # the third answer: written `detained = "not_known"` or in police_wishes_in


@dataclass(frozen=True)
class PersonPattern:
    roles: frozenset[str] | None = None
    types: frozenset[str] | None = None
    answers: tuple[tuple[str, bool | None], ...] = ()  # (fact, wanted): True, False or None for not known
    ages: tuple[tuple[str, int], ...] = ()  # (one of AGE_KEYS, years): every one must hold
    bands: tuple[tuple[str, int, int | None], ...] = ()  # (code, min, max) of every age band, for age_state
    police_wishes_in: frozenset[str | None] | None = None  # None inside the set means not known
    sex_in: frozenset[str] | None = None

    def matches(self, person: PersonFacts) -> bool:
        if self.roles is not None and person.role not in self.roles:
            return False
        if self.types is not None and person.type not in self.types:
            return False
        for name, wanted in self.answers:
            if getattr(person, name) is not wanted:
                return False
        if any(not self._age_matches(person, key, years) for key, years in self.ages):
            return False
        if self.police_wishes_in is not None and person.police_wishes not in self.police_wishes_in:
            return False
        return self.sex_in is None or (person.sex or "unknown") in self.sex_in

    def _age_matches(self, person: PersonFacts, key: str, years: int) -> bool:
        # "Not known" means not recorded: the CAMHS presumption answers age_under and age_not_under only.
        state = person.age_state(years, {code: (low, high) for code, low, high in self.bands},
                                 presume=key != "age_unknown_under")
        if key == "age_under":
            return state is True
        if key == "age_not_under":
            return state is not True
        return state is None  # age_unknown_under


@dataclass(frozen=True)
class Condition:
    always: bool = False
    types_any: frozenset[str] | None = None
    types_only: frozenset[str] | None = None
    flags_any: frozenset[str] | None = None
    flags_all: frozenset[str] | None = None
    location_in: frozenset[str] | None = None
    perpetrator_type_in: frozenset[str] | None = None
    affected_type_in: frozenset[str] | None = None
    person: PersonPattern | None = None
    harm_physical_in: frozenset[str] | None = None  # compiled from harm_at_least
    harm_psychological_in: frozenset[str] | None = None
    occurred_within_hours: int | None = None
    reported_after_hours: int | None = None
    any_of: tuple[Condition, ...] = ()
    none_of: tuple[Condition, ...] = ()
    # The `when` table as written, for the catalogue; left out of equality and hashing.
    source: dict | None = field(default=None, compare=False, repr=False)

    def matches(self, facts: IncidentFacts) -> bool:
        if self.always:
            return True
        for name, passes in _TESTS:
            wanted = getattr(self, name)
            if wanted is not None and not passes(wanted, facts):
                return False
        if not self._harm_matches(facts):
            return False
        if self.any_of and not any(c.matches(facts) for c in self.any_of):
            return False
        return not any(c.matches(facts) for c in self.none_of)

    def _harm_matches(self, facts: IncidentFacts) -> bool:
        if self.harm_physical_in is None and self.harm_psychological_in is None:
            return True
        return (facts.harm_physical in (self.harm_physical_in or ())
                or facts.harm_psychological in (self.harm_psychological_in or ()))


def _some(facts: IncidentFacts, role: str, types: frozenset[str]) -> bool:
    return any(p.role == role and p.type in types for p in facts.people)


def _delay_seconds(facts: IncidentFacts) -> float:
    return (utc(facts.reported_at) - utc(facts.occurred_at)).total_seconds()


# The single-valued tests of a Condition: (its field, whether the facts pass given the field's value). A field
# left as None is not tested. `harm_at_least`, `any_of` and `none_of` are tested in Condition.matches.
_TESTS = (
    ("types_any", lambda want, facts: bool(facts.types & want)),
    ("types_only", lambda want, facts: facts.types <= want),
    ("flags_any", lambda want, facts: bool(facts.flags & want)),
    ("flags_all", lambda want, facts: want <= facts.flags),
    ("location_in", lambda want, facts: facts.location in want),
    ("perpetrator_type_in", lambda want, facts: _some(facts, "alleged_perpetrator", want)),
    ("affected_type_in", lambda want, facts: _some(facts, "affected", want)),
    ("person", lambda want, facts: any(want.matches(p) for p in facts.people)),
    ("occurred_within_hours", lambda want, facts: _delay_seconds(facts) <= want * 3600),
    ("reported_after_hours", lambda want, facts: _delay_seconds(facts) > want * 3600),
)


# --- parsing ---------------------------------------------------------------------------------------

# The tests that take codes from a taxonomy list: (key, code list).
_CODE_TESTS = (("types_any", "incident_types"), ("types_only", "incident_types"), ("flags_any", "context_flags"),
               ("flags_all", "context_flags"), ("location_in", "locations"), ("perpetrator_type_in", "person_types"),
               ("affected_type_in", "person_types"))

class _Parser:
    def __init__(self, file: str, entry: str, taxonomy: Taxonomy):
        self.file, self.entry, self.taxonomy = file, entry, taxonomy

    def fail(self, problem: str):
        raise ConfigError(self.file, self.entry, problem)

    def condition(self, table: Any, where: str = "when") -> Condition:
        if not isinstance(table, dict):
            self.fail(f"'{where}' must be a table of tests")
        if not table:
            self.fail(f"'{where}' is empty; write 'always = true' for a rule that applies to every incident")
        unknown = sorted(set(table) - CONDITION_KEYS)
        if unknown:
            self.fail(f"'{where}' has unknown test {unknown[0]!r} (allowed: {', '.join(sorted(CONDITION_KEYS))})")
        if "always" in table:
            if table["always"] is not True or len(table) > 1:
                self.fail(f"'{where}': 'always' must be 'always = true' and the only test")
            return Condition(always=True, source=table)
        fields: dict[str, Any] = {"source": table, **self.code_tests(table, where)}
        if "person" in table:
            fields["person"] = self.person(table["person"], f"{where}.person")
        if "harm_at_least" in table:
            fields.update(self.harm(table["harm_at_least"], f"{where}.harm_at_least"))
        for key in ("occurred_within_hours", "reported_after_hours"):
            if key in table:
                fields[key] = self.whole_number(table[key], f"{where}.{key}")
        for key in ("any_of", "none_of"):
            if key in table:
                fields[key] = self.nested(table[key], f"{where}.{key}")
        return Condition(**fields)

    def code_tests(self, table: dict, where: str) -> dict[str, frozenset[str]]:
        return {key: self.codes(table[key], f"{where}.{key}", section) for key, section in _CODE_TESTS if key in table}

    def nested(self, value: Any, where: str) -> tuple[Condition, ...]:
        if not isinstance(value, list) or not value:
            self.fail(f"'{where}' must be a non-empty list of tables")
        return tuple(self.condition(c, f"{where}[{i}]") for i, c in enumerate(value))

    def codes(self, value: Any, where: str, section: str) -> frozenset[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.fail(f"'{where}' must be a non-empty list of codes")
        for code in value:
            if not self.taxonomy.has(section, code):
                self.fail(f"'{where}' has unknown code {code!r} (known: {', '.join(self.taxonomy.codes(section))})")
        return frozenset(value)

    def whole_number(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(f"'{where}' must be a whole number of at least 1")
        return value

    def person(self, table: Any, where: str) -> PersonPattern:
        if not isinstance(table, dict) or not table:
            self.fail(f"'{where}' must be a non-empty table")
        unknown = sorted(set(table) - PERSON_KEYS)
        if unknown:
            self.fail(f"'{where}' has unknown key {unknown[0]!r} (allowed: {', '.join(sorted(PERSON_KEYS))})")
        fields: dict[str, Any] = {}
        for key, name, section in (("role", "roles", "person_roles"), ("type", "types", "person_types"),
                                   ("sex_in", "sex_in", "sexes")):
            if key in table:
                fields[name] = self.codes(table[key], f"{where}.{key}", section)
        if "police_wishes_in" in table:
            fields["police_wishes_in"] = self.police_wishes(table["police_wishes_in"], f"{where}.police_wishes_in")
        fields["answers"] = self.answers(table, where)
        if "age_under" in table and "age_not_under" in table:
            self.fail(f"'{where}' cannot have both age_under and age_not_under")
        ages = tuple((key, self.whole_number(table[key], f"{where}.{key}")) for key in AGE_KEYS if key in table)
        if ages:
            fields["ages"] = ages
            fields["bands"] = tuple((b.code, b.min_years, b.max_years) for b in self.taxonomy.age_bands)
        return PersonPattern(**fields)

    def answers(self, table: dict, where: str) -> tuple[tuple[str, bool | None], ...]:
        answers = []
        for key in _PERSON_ANSWERS:
            if key in table:
                if not (isinstance(table[key], bool) or table[key] == NOT_KNOWN):
                    self.fail(f"'{where}.{key}' must be true, false or \"{NOT_KNOWN}\"")
                answers.append((key, None if table[key] == NOT_KNOWN else table[key]))
        return tuple(answers)

    def police_wishes(self, value: Any, where: str) -> frozenset[str | None]:
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list) and NOT_KNOWN in values:
            rest = [v for v in values if v != NOT_KNOWN]
            return frozenset({None, *(self.codes(rest, where, "police_wishes") if rest else ())})
        return self.codes(value, where, "police_wishes")

    def harm(self, table: Any, where: str) -> dict[str, frozenset[str]]:
        if not isinstance(table, dict) or not table:
            self.fail(f"'{where}' must be a table like {{physical = \"moderate\"}}")
        unknown = sorted(set(table) - {"physical", "psychological"})
        if unknown:
            self.fail(f"'{where}' has unknown scale {unknown[0]!r} (allowed: physical, psychological)")
        fields = {}
        for scale, level in table.items():
            section = f"harm_{scale}"
            if not (isinstance(level, str) and self.taxonomy.has(section, level)):
                self.fail(f"'{where}.{scale}' must be one of: {', '.join(self.taxonomy.codes(section))}")
            rank = self.taxonomy.harm_level(scale, level).rank
            fields[f"harm_{scale}_in"] = frozenset(
                h.code for h in getattr(self.taxonomy, section) if h.rank >= rank)
        return fields


def parse_condition(table: Any, taxonomy: Taxonomy, file: str, entry: str) -> Condition:
    """Parse and validate a rule's `when` table; a ConfigError names the file, rule and problem."""
    return _Parser(file, entry, taxonomy).condition(table)
