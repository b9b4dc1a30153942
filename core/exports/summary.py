"""Ward report figures over a period: counts by type, pair, month and harm, and open or overdue actions (core layer).

Pure: IncidentDetail DTOs in, a WardSummary of counts and codes out. It carries no free text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from core.clock import local
from core.dto import IncidentDetail
from core.taxonomy import PD09_LABELS, Taxonomy, pair_label


@dataclass(frozen=True)
class OverdueAction:
    reference: str
    title: str
    owner: str
    due_at: datetime


@dataclass(frozen=True)
class WardSummary:
    ward_name: str
    period: tuple[date, date]
    total: int
    by_type: tuple[tuple[str, int], ...]  # (label, count), most first; an incident may have several types
    by_pair: tuple[tuple[str, int], ...]
    by_month: tuple[tuple[str, int], ...]  # ('Jan 2026', count), every month of the period in order
    by_pd09: tuple[tuple[str, int], ...]  # every level, no harm first, plus 'Not graded' when any
    by_physical: tuple[tuple[str, int], ...]
    by_psychological: tuple[tuple[str, int], ...]
    harm_to_confirm: int
    restricted: int
    open_actions: int
    overdue: tuple[OverdueAction, ...]


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _ordered(counter: Counter, order: list[str]) -> tuple[tuple[str, int], ...]:
    """Every level in scale order, zeros included; 'Not graded' only when something is."""
    return tuple((label, counter[label]) for label in order if counter[label] or label != "Not graded")


def summarise(details: Iterable[IncidentDetail], tax: Taxonomy, *, ward_name: str, period: tuple[date, date],
              now: datetime) -> WardSummary:
    """The ward report's figures for these incidents (already limited to the ward and period), counted in
    one pass, so the incidents can stream past."""
    types: Counter = Counter()
    pairs: Counter = Counter()
    months: Counter = Counter()
    pd09: Counter = Counter()
    physical: Counter = Counter()
    psychological: Counter = Counter()
    overdue: list[OverdueAction] = []
    open_actions = total = to_confirm = restricted = 0
    for d in details:
        total += 1
        to_confirm += bool(d.harm_confirmation_needed)
        restricted += bool(d.restricted)
        types.update(tax.type_label(code) for code in d.draft.types)
        pairs[pair_label(d.pair) if d.pair else "Not recorded"] += 1
        if d.draft.occurred_at:
            at = local(d.draft.occurred_at)
            months[(at.year, at.month)] += 1
        pd09[PD09_LABELS.get(d.pd09, "Not graded")] += 1
        physical[tax.label("harm_physical", d.harm_physical) if d.harm_physical else "Not graded"] += 1
        psychological[tax.label("harm_psychological", d.harm_psychological)
                      if d.harm_psychological else "Not graded"] += 1
        for a in d.actions:
            if a.status == "open":
                open_actions += 1
                if a.due_at is not None and a.due_at < now:
                    overdue.append(OverdueAction(d.reference, a.title, a.owner_label or a.owner_role, a.due_at))
    overdue.sort(key=lambda a: a.due_at)
    month_rows = tuple((date(y, m, 1).strftime("%b %Y"), months[(y, m)]) for y, m in _months(*period))
    pd09_order = [*PD09_LABELS.values(), "Not graded"]
    physical_order = [lv.label for lv in tax.harm_physical] + ["Not graded"]
    psychological_order = [lv.label for lv in tax.harm_psychological] + ["Not graded"]
    return WardSummary(
        ward_name=ward_name, period=period, total=total,
        by_type=tuple(types.most_common()), by_pair=tuple(pairs.most_common()), by_month=month_rows,
        by_pd09=_ordered(pd09, pd09_order), by_physical=_ordered(physical, physical_order),
        by_psychological=_ordered(psychological, psychological_order),
        harm_to_confirm=to_confirm, restricted=restricted, open_actions=open_actions, overdue=tuple(overdue))
