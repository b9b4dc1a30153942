"""Evaluating the safeguarding rules for one incident: facts in, required actions with deadlines out (core layer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.rules.deadlines import LONDON, utc
from core.rules.facts import IncidentFacts, with_presumptions
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
    kinds: tuple[str, ...] = ()  # the rule id, or for a "not known" check the ids of the rules it checks for
    basis: str = "local"  # "national" or "local" (core.rules.ruleset.BASES)
    basis_label: str = "local policy (a trust may change it)"
    requires_reference: bool = False
    window_closed_at: datetime | None = None  # set when the window had closed before the report


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

    The rules read the facts with core.rules.facts.with_presumptions applied. No action is created already
    overdue: when a window counted from the incident had closed before the report, the action is due when
    reported and says so plainly ("The window closed at ...: record what was done.").
    """
    facts = with_presumptions(facts)
    actions = [_action(rule, facts) for rule in ruleset.rules if rule.when.matches(facts)]
    order = {rule.id: position for position, rule in enumerate(ruleset.rules)}
    actions.sort(key=lambda a: (utc(a.due), not a.mandatory, order[a.rule_id]))
    return actions


def _action(rule: Rule, facts: IncidentFacts) -> RequiredAction:
    due = rule.deadline.due(facts.occurred_at, facts.reported_at)
    guidance, closed = rule.guidance, None
    if utc(due) < utc(facts.reported_at):
        closed, due = due, facts.reported_at.astimezone(LONDON)
        guidance = f"The window closed at {closed:%H:%M on %a %d %b %Y}: record what was done. {guidance}"
    return RequiredAction(
        rule_id=rule.id,
        title=rule.title,
        guidance=guidance,
        why=rule.why,
        due=due,
        deadline_kind=rule.deadline.kind,
        owner_role=rule.owner_role,
        owner_label=rule.owner_label,
        mandatory=rule.mandatory,
        source=rule.source,
        group=group_for(due, facts.reported_at, rule.deadline.kind),
        kinds=rule.kinds,
        basis=rule.basis,
        basis_label=rule.basis_label,
        requires_reference=rule.requires_reference,
        window_closed_at=closed,
    )
