"""The `when` language of the safeguarding rules: parsed from TOML, matched against IncidentFacts (core layer).

A `when` table holds one or more tests; the rule fires only if every test in it passes.

    always = true                       every incident (must be the only test)
    types_any = ["SS-RAPE", ...]        the incident is coded with at least one of these types
    flags_any = ["physical_contact"]    at least one of these context flags is set
    flags_all = [...]                   every one of these flags is set
    location_in = ["bedroom", ...]      the incident happened in one of these places
    perpetrator_type_in = ["staff"]     some alleged perpetrator is of one of these person types
    affected_type_in = ["patient"]      some affected person is of one of these person types
    person = {...}                      some single person matches every key given (see below)
    harm_at_least = {physical = "moderate", psychological = "moderate"}
                                        the worst harm reaches the level on at least one scale given
    occurred_within_hours = 72          the incident was reported within this many hours of happening
    any_of = [{...}, {...}]             at least one of these nested conditions holds
    none_of = [{...}, {...}]            none of these nested conditions holds

Keys of `person`: role and type (a code or a list of codes), detained, capacity_concern,
care_support_needs and linked_user (true or false; an unanswered question matches neither),
age_under = N (known to be under N: from age_years, or an age band wholly under N),
age_not_under = N (not known to be under N, which includes an unknown age),
police_wishes_in = [...], sex_in = [...] (a person whose sex is not recorded counts as "unknown").
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
    "always", "types_any", "flags_any", "flags_all", "location_in", "perpetrator_type_in", "affected_type_in",
    "person", "harm_at_least", "occurred_within_hours", "any_of", "none_of",
})
PERSON_KEYS = frozenset({
    "role", "type", "detained", "capacity_concern", "care_support_needs", "linked_user", "age_under",
    "age_not_under", "police_wishes_in", "sex_in",
})
_PERSON_BOOLEANS = ("detained", "capacity_concern", "care_support_needs", "linked_user")


@dataclass(frozen=True)
class PersonPattern:
    roles: frozenset[str] | None = None
    types: frozenset[str] | None = None
    detained: bool | None = None
    capacity_concern: bool | None = None
    care_support_needs: bool | None = None
    linked_user: bool | None = None
    age_under: int | None = None
    age_not_under: int | None = None
    bands_under: frozenset[str] = frozenset()  # age bands wholly under age_under / age_not_under
    police_wishes_in: frozenset[str] | None = None
    sex_in: frozenset[str] | None = None

    def matches(self, person: PersonFacts) -> bool:
        if self.roles is not None and person.role not in self.roles:
            return False
        if self.types is not None and person.type not in self.types:
            return False
        for name in _PERSON_BOOLEANS:
            wanted = getattr(self, name)
            if wanted is not None and getattr(person, name) is not wanted:
                return False
        if self.age_under is not None and not self._known_under(person, self.age_under):
            return False
        if self.age_not_under is not None and self._known_under(person, self.age_not_under):
            return False
        if self.police_wishes_in is not None and person.police_wishes not in self.police_wishes_in:
            return False
        return self.sex_in is None or (person.sex or "unknown") in self.sex_in

    def _known_under(self, person: PersonFacts, years: int) -> bool:
        if person.age_years is not None:
            return person.age_years < years
        return person.age_band in self.bands_under


@dataclass(frozen=True)
class Condition:
    always: bool = False
    types_any: frozenset[str] | None = None
    flags_any: frozenset[str] | None = None
    flags_all: frozenset[str] | None = None
    location_in: frozenset[str] | None = None
    perpetrator_type_in: frozenset[str] | None = None
    affected_type_in: frozenset[str] | None = None
    person: PersonPattern | None = None
    harm_physical_in: frozenset[str] | None = None  # compiled from harm_at_least
    harm_psychological_in: frozenset[str] | None = None
    occurred_within_hours: int | None = None
    any_of: tuple[Condition, ...] = ()
    none_of: tuple[Condition, ...] = ()
    # The `when` table as written, for the catalogue; left out of equality and hashing.
    source: dict | None = field(default=None, compare=False, repr=False)

    def matches(self, facts: IncidentFacts) -> bool:
        if self.always:
            return True
        if self.types_any is not None and not (facts.types & self.types_any):
            return False
        if self.flags_any is not None and not (facts.flags & self.flags_any):
            return False
        if self.flags_all is not None and not self.flags_all <= facts.flags:
            return False
        if self.location_in is not None and facts.location not in self.location_in:
            return False
        if self.perpetrator_type_in is not None and not _some(facts, "alleged_perpetrator", self.perpetrator_type_in):
            return False
        if self.affected_type_in is not None and not _some(facts, "affected", self.affected_type_in):
            return False
        if self.person is not None and not any(self.person.matches(p) for p in facts.people):
            return False
        if (self.harm_physical_in is not None or self.harm_psychological_in is not None) and not (
            facts.harm_physical in (self.harm_physical_in or ())
            or facts.harm_psychological in (self.harm_psychological_in or ())
        ):
            return False
        if self.occurred_within_hours is not None and (
            (utc(facts.reported_at) - utc(facts.occurred_at)).total_seconds() > self.occurred_within_hours * 3600
        ):
            return False
        if self.any_of and not any(c.matches(facts) for c in self.any_of):
            return False
        return not any(c.matches(facts) for c in self.none_of)


def _some(facts: IncidentFacts, role: str, types: frozenset[str]) -> bool:
    return any(p.role == role and p.type in types for p in facts.people)


# --- parsing ---------------------------------------------------------------------------------------

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
        fields: dict[str, Any] = {"source": table}
        for key, section in (("types_any", "incident_types"), ("flags_any", "context_flags"),
                             ("flags_all", "context_flags"), ("location_in", "locations"),
                             ("perpetrator_type_in", "person_types"), ("affected_type_in", "person_types")):
            if key in table:
                fields[key] = self.codes(table[key], f"{where}.{key}", section)
        if "person" in table:
            fields["person"] = self.person(table["person"], f"{where}.person")
        if "harm_at_least" in table:
            fields.update(self.harm(table["harm_at_least"], f"{where}.harm_at_least"))
        if "occurred_within_hours" in table:
            fields["occurred_within_hours"] = self.whole_number(table["occurred_within_hours"],
                                                                f"{where}.occurred_within_hours")
        for key in ("any_of", "none_of"):
            if key in table:
                nested = table[key]
                if not isinstance(nested, list) or not nested:
                    self.fail(f"'{where}.{key}' must be a non-empty list of tables")
                fields[key] = tuple(self.condition(c, f"{where}.{key}[{i}]") for i, c in enumerate(nested))
        return Condition(**fields)

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
                                   ("police_wishes_in", "police_wishes_in", "police_wishes"),
                                   ("sex_in", "sex_in", "sexes")):
            if key in table:
                fields[name] = self.codes(table[key], f"{where}.{key}", section)
        for key in _PERSON_BOOLEANS:
            if key in table:
                if not isinstance(table[key], bool):
                    self.fail(f"'{where}.{key}' must be true or false")
                fields[key] = table[key]
        if "age_under" in table and "age_not_under" in table:
            self.fail(f"'{where}' cannot have both age_under and age_not_under")
        for key in ("age_under", "age_not_under"):
            if key in table:
                years = self.whole_number(table[key], f"{where}.{key}")
                fields[key] = years
                fields["bands_under"] = frozenset(b.code for b in self.taxonomy.age_bands if b.wholly_under(years))
        return PersonPattern(**fields)

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
