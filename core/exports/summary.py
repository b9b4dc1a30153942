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
    tally = Tally(tax, now)
    for d in details:
        tally.add(d)
    return tally.summary(ward_name=ward_name, period=period)


class Tally:
    """The ward report's figures, counted one incident at a time: the service adds each chunk as it is read,
    so no incident is held once counted (memory does not grow with the ward's incidents)."""

    def __init__(self, tax: Taxonomy, now: datetime) -> None:
        self.tax, self.now = tax, now
        self.types, self.pairs, self.months = Counter(), Counter(), Counter()
        self.pd09, self.physical, self.psychological = Counter(), Counter(), Counter()
        self.overdue: list[OverdueAction] = []
        self.open_actions = self.total = self.to_confirm = self.restricted = 0

    def add(self, d: IncidentDetail) -> None:
        tax = self.tax
        self.total += 1
        self.to_confirm += bool(d.harm_confirmation_needed)
        self.restricted += bool(d.restricted)
        self.types.update(tax.type_label(code) for code in d.draft.types)
        self.pairs[pair_label(d.pair) if d.pair else "Not recorded"] += 1
        if d.draft.occurred_at:
            at = local(d.draft.occurred_at)
            self.months[(at.year, at.month)] += 1
        self.pd09[PD09_LABELS.get(d.pd09, "Not graded")] += 1
        self.physical[tax.label("harm_physical", d.harm_physical) if d.harm_physical else "Not graded"] += 1
        self.psychological[tax.label("harm_psychological", d.harm_psychological)
                           if d.harm_psychological else "Not graded"] += 1
        for a in d.actions:
            if a.status == "open":
                self.open_actions += 1
                if a.due_at is not None and a.due_at < self.now:
                    self.overdue.append(OverdueAction(d.reference, a.title, a.owner_label or a.owner_role, a.due_at))

    def summary(self, *, ward_name: str, period: tuple[date, date]) -> WardSummary:
        tax = self.tax
        month_rows = tuple((date(y, m, 1).strftime("%b %Y"), self.months[(y, m)]) for y, m in _months(*period))
        pd09_order = [*PD09_LABELS.values(), "Not graded"]
        physical_order = [lv.label for lv in tax.harm_physical] + ["Not graded"]
        psychological_order = [lv.label for lv in tax.harm_psychological] + ["Not graded"]
        return WardSummary(
            ward_name=ward_name, period=period, total=self.total,
            by_type=tuple(self.types.most_common()), by_pair=tuple(self.pairs.most_common()), by_month=month_rows,
            by_pd09=_ordered(self.pd09, pd09_order), by_physical=_ordered(self.physical, physical_order),
            by_psychological=_ordered(self.psychological, psychological_order),
            harm_to_confirm=self.to_confirm, restricted=self.restricted, open_actions=self.open_actions,
            overdue=tuple(sorted(self.overdue, key=lambda a: a.due_at)))
