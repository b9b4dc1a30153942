"""The safeguarding rules engine: incident facts in, required actions with deadlines out (core layer).

The rules live in resources/rules.toml (with an optional trust override file). Public API:

    load_rules(path=None, override_path=None, taxonomy=None) -> RuleSet   ConfigError on a bad file
    evaluate(facts, ruleset) -> list[RequiredAction]                      soonest first, mandatory first
    facts_from_json(obj, taxonomy=None) -> IncidentFacts                  ValidationError on bad input
    PersonFacts, IncidentFacts, RequiredAction, RuleSet, Rule, Deadline
    add_working_days(start, n), is_working_day(day), LONDON
"""

from core.rules.deadlines import LONDON, Deadline, add_working_days, is_working_day
from core.rules.engine import RequiredAction, evaluate, group_for
from core.rules.facts import IncidentFacts, PersonFacts, facts_from_json, with_presumptions, worst_harm
from core.rules.ruleset import BASES, DEFAULT_RULES_PATH, OWNER_ROLES, Rule, RuleSet, load_rules


def active_rules() -> RuleSet:
    """The rules the app applies: the shipped file plus the trust-local override, if one is in place
    (core.paths.rules_override: LANTERN_RULES_OVERRIDE, or rules-local.toml in the PC's settings folder)."""
    from core.paths import rules_override

    override = rules_override()
    return load_rules(override_path=override) if override else load_rules()


__all__ = [
    "BASES",
    "DEFAULT_RULES_PATH",
    "LONDON",
    "OWNER_ROLES",
    "Deadline",
    "IncidentFacts",
    "PersonFacts",
    "RequiredAction",
    "Rule",
    "RuleSet",
    "active_rules",
    "add_working_days",
    "evaluate",
    "facts_from_json",
    "group_for",
    "is_working_day",
    "load_rules",
    "with_presumptions",
    "worst_harm",
]
