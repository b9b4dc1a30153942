"""Evaluating the safeguarding rules for one incident: facts in, required actions with deadlines out (core layer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.rules.deadlines import utc
from core.rules.facts import IncidentFacts
from core.rules.ruleset import Rule, RuleSet

GROUPS = ("now", "today", "later")


@dataclass(frozen=True)
class RequiredAction:
    rule_id: str
    title: str
    guidance: str
    why: str
    due: datetime  # aware, Europe/London
    deadline_kind: str  # immediate | hours | working_days
    owner_role: str
    owner_label: str
    mandatory: bool
    source: str
    group: str  # now | today | later


def group_for(due: datetime, reported_at: datetime, deadline_kind: str) -> str:
    """'now' for immediate or due within an hour of the report, 'today' within 24 hours, else 'later'."""
    due, reported_at = utc(due), utc(reported_at)
    if deadline_kind == "immediate" or due <= reported_at + timedelta(hours=1):
        return "now"
    if due <= reported_at + timedelta(hours=24):
        return "today"
    return "later"


def evaluate(facts: IncidentFacts, ruleset: RuleSet) -> list[RequiredAction]:
    """The actions the rules require for this incident, soonest first and mandatory before recommended.

    A deadline counted from the time of the incident can already be past when the incident is reported
    (e.g. the 24-hour PEPSE window); it is kept as it is, so the action shows as overdue.
    """
    actions = [_action(rule, facts) for rule in ruleset.rules if rule.when.matches(facts)]
    order = {rule.id: position for position, rule in enumerate(ruleset.rules)}
    actions.sort(key=lambda a: (utc(a.due), not a.mandatory, order[a.rule_id]))
    return actions


def _action(rule: Rule, facts: IncidentFacts) -> RequiredAction:
    due = rule.deadline.due(facts.occurred_at, facts.reported_at)
    return RequiredAction(
        rule_id=rule.id,
        title=rule.title,
        guidance=rule.guidance,
        why=rule.why,
        due=due,
        deadline_kind=rule.deadline.kind,
        owner_role=rule.owner_role,
        owner_label=rule.owner_label,
        mandatory=rule.mandatory,
        source=rule.source,
        group=group_for(due, facts.reported_at, rule.deadline.kind),
    )
