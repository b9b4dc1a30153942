"""Loading the safeguarding rules and a trust-local override file into a RuleSet (core layer).

The shipped rules are resources/rules.toml. A trust can keep its own changes in a separate override file
(same TOML style, `version = 1`), so the shipped file is never edited:

    [[change]]                       change an existing rule, found by id
    id = "risk-care-plan-review"
    deadline = {kind = "hours", n = 48, from = "reported"}
    owner_role = "ward_manager"
    owner_label = "Ward manager"
    mandatory = true                 a recommended rule may be made mandatory (never the reverse)
    disabled = true                  only for a rule that is not mandatory

    [[rules]]                        a new rule, written exactly like a shipped one
    id = "trust-matron-informed"
    ...

An unknown id, an attempt to disable or downgrade a mandatory rule, or a new rule reusing an id is a
ConfigError naming the file, the entry and the problem.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import ConfigError
from core.rules.conditions import Condition, parse_condition
from core.rules.deadlines import DEADLINE_KINDS, DEADLINE_STARTS, Deadline
from core.taxonomy import RESOURCES, Taxonomy, load_taxonomy
from core.taxonomy.tomlfile import EntryReader, read_toml

DEFAULT_RULES_PATH = RESOURCES / "rules.toml"

# The app roles that can own an action (core.security.permissions has the same names).
OWNER_ROLES = ("nurse", "ward_manager", "safeguarding_lead")

_RULE_KEYS = {"id", "title", "guidance", "why", "when", "deadline", "owner_role", "owner_label", "mandatory",
              "source", "basis", "checks", "requires_reference"}
# Where a deadline comes from: set in national guidance or law, or a default a trust may change.
BASES = {"national": "national", "local": "local policy (a trust may change it)"}
_CHANGE_KEYS = {"id", "deadline", "owner_role", "owner_label", "mandatory", "disabled"}
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    guidance: str
    why: str
    when: Condition
    deadline: Deadline
    owner_role: str
    owner_label: str
    mandatory: bool
    source: str
    origin: str = "shipped"  # "shipped", or the override file's name for a trust rule
    changed_locally: bool = False
    basis: str = "local"  # "national" or "local" (see BASES): where the deadline comes from
    checks: tuple[str, ...] = ()  # the ids of the rules this one is the "not known" check for
    requires_reference: bool = False  # completing the action needs a reference (e.g. a crime reference)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The actions this rule stands for: a check stands for the rules it checks for."""
        return self.checks or (self.id,)

    @property
    def basis_label(self) -> str:
        return BASES[self.basis]


@dataclass(frozen=True)
class RuleSet:
    version: int
    rules: tuple[Rule, ...]
    files: tuple[str, ...]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)


def load_rules(path: Path | None = None, override_path: Path | None = None,
               taxonomy: Taxonomy | None = None) -> RuleSet:
    """Load and validate the rules (the shipped file by default) and apply an optional override file.

    The shipped rules with no override are read once and cached.
    """
    if path is None and override_path is None and taxonomy is None:
        return _load_default()
    return _load(Path(path) if path else DEFAULT_RULES_PATH, Path(override_path) if override_path else None,
                 taxonomy or load_taxonomy())


@functools.cache
def _load_default() -> RuleSet:
    return _load(DEFAULT_RULES_PATH, None, load_taxonomy())


def _load(path: Path, override_path: Path | None, taxonomy: Taxonomy) -> RuleSet:
    data = read_toml(path)
    file = str(path)
    _check_sections(file, data, {"version", "rules"})
    rules = _rule_list(file, data.get("rules"), taxonomy, origin="shipped", required=True)
    _check_unique(file, rules, {})
    _check_checks(file, rules)
    files = (file,)
    if override_path is not None:
        rules = _apply_override(override_path, rules, taxonomy)
        files += (str(override_path),)
    return RuleSet(version=data["version"], rules=tuple(rules), files=files)


def _check_sections(file: str, data: dict, allowed: set[str]):
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(file, unknown[0], f"unknown section (allowed: {', '.join(sorted(allowed))})")


def _rule_list(file: str, raw, taxonomy: Taxonomy, origin: str, required: bool) -> list[Rule]:
    if raw is None and not required:
        return []
    if not isinstance(raw, list) or not raw:
        raise ConfigError(file, "rules", "there are no rules (write each one as [[rules]])")
    rules = []
    for position, table in enumerate(raw, start=1):
        rule_id = table.get("id") if isinstance(table, dict) else None
        entry = f"rule {rule_id}" if isinstance(rule_id, str) else f"rules entry {position}"
        rules.append(_rule(file, entry, table, taxonomy, origin))
    return rules


def _check_unique(file: str, rules: list[Rule], existing: dict[str, Rule]):
    seen = set(existing)
    for rule in rules:
        if rule.id in seen:
            raise ConfigError(file, f"rule {rule.id}", "this id is already used by another rule")
        seen.add(rule.id)


def _check_checks(file: str, rules: list[Rule]):
    """A check names existing rules that are not checks themselves, and is mandatory if any of them is."""
    by_id = {rule.id: rule for rule in rules}
    for rule in rules:
        for name in rule.checks:
            target = by_id.get(name)
            if target is None or target.checks:
                raise ConfigError(file, f"rule {rule.id}", f"'checks' names {name!r}, which is not a rule "
                                                           "(or is itself a check)")
            if target.mandatory and not rule.mandatory:
                raise ConfigError(file, f"rule {rule.id}", "a check for a mandatory rule must be mandatory too")


def _rule(file: str, entry: str, table, taxonomy: Taxonomy, origin: str) -> Rule:
    read = EntryReader(file, entry, table, _RULE_KEYS)
    rule_id = read.text("id")
    if not _ID_PATTERN.match(rule_id) or len(rule_id) > 60:
        read.fail(f"id {rule_id!r} must be lower-case words joined by hyphens, at most 60 characters")
    title = read.text("title")
    if len(title) > 200:
        read.fail("'title' is longer than 200 characters")
    if not read.has("when"):
        read.fail("'when' is missing; write 'always = true' under [rules.when] for every incident")
    owner_role, owner_label = _owner(read)
    return Rule(
        id=rule_id,
        title=title,
        guidance=_tidy(read.text("guidance")),
        why=_tidy(read.text("why")),
        when=parse_condition(table["when"], taxonomy, file, entry),
        deadline=_deadline(read, table.get("deadline")),
        owner_role=owner_role,
        owner_label=owner_label,
        mandatory=read.boolean("mandatory"),
        source=_tidy(read.text("source")),
        origin=origin,
        # A trust's own rule sets a local deadline unless it says otherwise.
        basis=read.code_in("basis", tuple(BASES), None if origin == "shipped" else "local"),
        checks=read.text_list("checks") if read.has("checks") else (),
        requires_reference=read.boolean("requires_reference", False),
    )


def _tidy(text: str) -> str:
    """Join the lines of a multi-line TOML string into one paragraph per blank-line-separated block."""
    return "\n\n".join(" ".join(block.split()) for block in text.split("\n\n"))


def _owner(read: EntryReader, default_role: str | None = None, default_label: str | None = None):
    role = read.code_in("owner_role", OWNER_ROLES, default_role)
    label = read.text("owner_label") if read.has("owner_label") else default_label
    if label is None:
        label = role.replace("_", " ").capitalize()
    if len(label) > 100:
        read.fail("'owner_label' is longer than 100 characters")
    return role, label


def _deadline(read: EntryReader, raw) -> Deadline:
    if raw is None:
        read.fail("'deadline' is missing (e.g. deadline = {kind = \"immediate\"})")
    sub = EntryReader(read.file, read.entry, raw, {"kind", "n", "from"})
    kind = sub.code_in("kind", DEADLINE_KINDS)
    if kind == "immediate":
        if sub.has("n") or sub.has("from"):
            sub.fail("an immediate deadline takes no 'n' or 'from'")
        return Deadline("immediate")
    if not sub.has("n") or not sub.has("from"):
        sub.fail(f"a deadline of kind {kind!r} needs 'n' (how many) and 'from' (\"occurred\" or \"reported\")")
    return Deadline(kind, n=sub.integer("n", minimum=1), start=sub.code_in("from", DEADLINE_STARTS))


def _apply_override(path: Path, rules: list[Rule], taxonomy: Taxonomy) -> list[Rule]:
    data = read_toml(path)
    file = str(path)
    _check_sections(file, data, {"version", "change", "rules"})
    by_id = {rule.id: rule for rule in rules}
    changes = data.get("change", [])
    if not isinstance(changes, list):
        raise ConfigError(file, "change", "write each change as [[change]]")
    disabled = set()
    for position, table in enumerate(changes, start=1):
        rule_id = table.get("id") if isinstance(table, dict) else None
        entry = f"change {rule_id}" if isinstance(rule_id, str) else f"change entry {position}"
        read = EntryReader(file, entry, table, _CHANGE_KEYS)
        rule_id = read.text("id")
        if rule_id not in by_id:
            read.fail(f"there is no rule with id {rule_id!r} to change")
        if rule_id in disabled or by_id[rule_id].changed_locally:
            read.fail("this rule is changed twice; put all its changes in one [[change]]")
        by_id[rule_id], is_disabled = _changed(read, by_id[rule_id])
        if is_disabled:
            disabled.add(rule_id)
    new_rules = _rule_list(file, data.get("rules"), taxonomy, origin=path.name, required=False)
    _check_unique(file, new_rules, by_id)
    return [by_id[rule.id] for rule in rules if rule.id not in disabled] + new_rules


def _changed(read: EntryReader, rule: Rule) -> tuple[Rule, bool]:
    if read.has("disabled") and read.boolean("disabled"):
        if rule.mandatory:
            read.fail("a mandatory rule cannot be disabled")
        if len(read.table) > 2:
            read.fail("a disabled rule takes no other changes")
        return replace(rule, changed_locally=True), True
    if read.has("mandatory") and not read.boolean("mandatory") and rule.mandatory:
        read.fail("a mandatory rule cannot be made recommended")
    if len(read.table) == 1:
        read.fail("nothing to change; give deadline, owner_role, owner_label, mandatory or disabled")
    # A new owner role without a new label gets a plain label, not the old role's one.
    role, label = _owner(read, rule.owner_role, None if read.has("owner_role") else rule.owner_label)
    changed = replace(
        rule,
        deadline=_deadline(read, read.table["deadline"]) if read.has("deadline") else rule.deadline,
        basis="local" if read.has("deadline") else rule.basis,
        owner_role=role,
        owner_label=label,
        mandatory=rule.mandatory or (read.has("mandatory") and read.boolean("mandatory")),
        changed_locally=True,
    )
    return changed, False
