"""Dashboard figures for one ward or every ward the user may see, over a period (core layer).

The GUI dashboard and `main.py report summary` both call `dashboard()`. Counting happens in SQL
(GROUP BY over the covering ward+date index, which holds the incident's type codes and police referral as
summary columns); Python only folds the grouped rows into breakdowns.

Definitions (also in docs/manager-guide.md):
- An incident is counted once in the total; an incident coded with two types counts once under each, so
  the by-type counts may add up to more than the total.
- Months are Europe/London calendar months of when the incident happened.
- Police referral rate: incidents referred to the police / all incidents. Referred means any person involved
  wanted the police told (police_wishes "yes"), or the staff-allegation police action is done, or any police
  action was completed with a crime reference recorded.
- Repeat individuals: the same pseudonymous reference, in the same role and of the same type, in more than one
  incident in the period.
- Open and overdue actions: open actions of the incidents in the period, now.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, literal_column, select, text

from core.clock import LONDON, to_db, utcnow
from core.db.models import Incident, PersonInvolved, SafeguardingAction, Ward
from core.db.queries.incidents import RECORD, TOO_MANY_PEOPLE, UNIT
from core.db.store import Store, unit_of_work
from core.dto import Actor
from core.errors import ValidationError
from core.security.permissions import SAFEGUARDING_LEAD, require
from core.security.refusals import audited
from core.services.review import UNRECORDED, IncidentQuery, incident_filter
from core.services.visibility import on_server
from core.taxonomy import all_pairs, load_taxonomy, pair_label

DIMENSIONS = ("type", "pair", "month", "shift", "location", "harm_physical", "harm_psychological")


@dataclass(frozen=True)
class Bucket:
    """One bar: a code (the filter value for its incidents), what staff read, and how many."""

    code: str
    label: str
    count: int


@dataclass(frozen=True)
class RepeatPerson:
    local_ref: str
    role: str
    person_type: str
    incidents: int


@dataclass(frozen=True)
class Dashboard:
    ward_id: int | None
    ward_name: str
    date_from: date
    date_to: date
    total: int
    by_type: tuple[Bucket, ...]
    by_pair: tuple[Bucket, ...]
    by_month: tuple[Bucket, ...]
    by_shift: tuple[Bucket, ...]
    by_location: tuple[Bucket, ...]
    harm_physical: tuple[Bucket, ...]
    harm_psychological: tuple[Bucket, ...]
    repeat_people: tuple[RepeatPerson, ...]
    police_referred: int
    open_actions: int
    overdue_actions: int
    harm_confirmation_pending: int
    service_type: str | None = None  # a service line's dashboard (issue 16 item 6)

    @property
    def police_rate(self) -> float:
        return self.police_referred / self.total if self.total else 0.0

    def to_json(self, *, with_refs: bool = False) -> dict:
        """Plain JSON for a board report. Pseudonymous references are left out unless asked for."""
        data = asdict(self)
        data["date_from"], data["date_to"] = self.date_from.isoformat(), self.date_to.isoformat()
        data["police_referral_rate"] = round(self.police_rate, 4)
        people = data.pop("repeat_people")
        data["repeat_individuals"] = {"people": len(people), "incidents": sum(p["incidents"] for p in people)}
        if with_refs:
            data["repeat_individuals"]["list"] = people
        return data


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 12 months, ending today (Europe/London)."""
    today = today or utcnow().astimezone(LONDON).date()
    year, month = (today.year, today.month - 11) if today.month > 11 else (today.year - 1, today.month + 1)
    return date(year, month, 1), today


def _months(first: date, last: date) -> list[str]:
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = year + (month == 12), month % 12 + 1
    return out


def _month_label(code: str) -> str:
    return date(int(code[:4]), int(code[5:]), 1).strftime("%b %Y")


def _buckets(counter: Counter, order, label) -> tuple[Bucket, ...]:
    known = [Bucket(code, label(code), counter.get(code, 0)) for code in order]
    extra = [Bucket(code or UNRECORDED, "Not recorded" if code is None else label(code), n)
             for code, n in counter.items() if code not in set(order) and n]
    return tuple(known + sorted(extra, key=lambda b: b.label))


@audited
def dashboard(store: Store, actor: Actor, *, ward_id: int | None = None, date_from: date | None = None,
              date_to: date | None = None, now: datetime | None = None,
              service_type: str | None = None) -> Dashboard:
    """All the dashboard figures in one read transaction: one ward, one service line (`service_type`, the
    taxonomy's service types: every ward of that kind the actor reads), or all the actor's wards (for the lead,
    the whole trust)."""
    require(actor, "report.view")
    default_from, default_to = default_period()
    date_from, date_to = date_from or default_from, date_to or default_to
    if date_from > date_to:
        raise ValidationError({"period": "The start date is after the end date."})
    if ward_id is not None and actor.role != SAFEGUARDING_LEAD and ward_id not in actor.ward_ids:
        raise ValidationError({"ward": "That ward is not one of yours."})
    tax = load_taxonomy()
    if service_type is not None and not tax.has("service_types", service_type):
        raise ValidationError({"service": "Choose a service line from the list."})
    query = IncidentQuery(ward_id=ward_id, date_from=date_from, date_to=date_to, service_type=service_type)
    now_text = to_db(now or utcnow())
    with unit_of_work(store, write=False) as session:
        _no_jit(session)
        where = incident_filter(session, actor, query)
        ward_name = (session.scalar(select(Ward.name).where(Ward.id == ward_id)) if ward_id
                     else f"{tax.label('service_types', service_type)} wards" if service_type else "All your wards")
        counts = _single_counts(session, where)
        types, months = _type_counts(session, where), _month_counts(session, where)
        repeats = _repeats(session, where)
        open_actions, overdue = _open_actions(session, where, now_text)

    def by(section: str, counter: Counter) -> tuple[Bucket, ...]:
        return _buckets(counter, tax.codes(section), lambda c: tax.label(section, c))

    return Dashboard(
        ward_id=ward_id, ward_name=ward_name or "", date_from=date_from, date_to=date_to, total=counts.total,
        by_type=_counted(_buckets(types, tax.type_codes, tax.type_label)),
        by_pair=_counted(_buckets(counts.pair, all_pairs(), pair_label)),
        by_month=_buckets(months, _months(date_from, date_to), _month_label),
        by_shift=by("shifts", counts.shift), by_location=_counted(by("locations", counts.location)),
        harm_physical=by("harm_physical", counts.phys), harm_psychological=by("harm_psychological", counts.psych),
        repeat_people=tuple(repeats), police_referred=counts.referred,
        open_actions=open_actions, overdue_actions=overdue, harm_confirmation_pending=counts.pending,
        service_type=service_type)


def _no_jit(session) -> None:
    """On a server, no just-in-time compilation for this transaction's queries. PostgreSQL compiles a query whose
    estimated cost passes `jit_above_cost`; the repeat-people count of a ward-year on a 1,000,000-incident store
    passes it, and compiling took 0.75 s of a 1.9 s count (EXPLAIN ANALYZE: docs/performance.md) to save far less.
    `SET LOCAL` ends with the transaction."""
    if on_server(session):
        session.execute(text("SET LOCAL jit = off"))


def _counted(buckets: tuple[Bucket, ...]) -> tuple[Bucket, ...]:
    return tuple(b for b in buckets if b.count)


@dataclass
class _Counts:
    """The single-valued breakdowns and the totals, folded from one grouped query."""

    shift: Counter = field(default_factory=Counter)
    location: Counter = field(default_factory=Counter)
    pair: Counter = field(default_factory=Counter)
    phys: Counter = field(default_factory=Counter)
    psych: Counter = field(default_factory=Counter)
    total: int = 0
    pending: int = 0
    referred: int = 0


def _single_counts(session, where) -> _Counts:
    # One pass over the covering (ward, date) index for the single-valued breakdowns and the summary
    # columns (migration 0006); the incident table and its child tables are not read.
    dims = (Incident.shift, Incident.location, Incident.pair, Incident.harm_physical, Incident.harm_psychological)
    counts = _Counts()
    for s, loc, p, hp, hs, pend, police, n in session.execute(
            select(*dims, func.count().filter(Incident.harm_confirmation_needed.is_(True)),
                   func.count().filter(Incident.police_referred.is_(True)), func.count()).where(where).group_by(*dims)):
        counts.shift[s] += n
        counts.location[loc] += n
        counts.pair[p] += n
        counts.phys[hp] += n
        counts.psych[hs] += n
        counts.total += n
        counts.pending += pend
        counts.referred += police
    return counts


def _type_counts(session, where) -> Counter:
    types = Counter()
    for codes, n in session.execute(select(Incident.type_codes, func.count()).where(where)
                                    .group_by(Incident.type_codes)):
        for code in codes.split():
            types[code] += n
    return types


def _month_counts(session, where) -> Counter:
    # Months: group by UTC day, splitting off 23:00-23:59 UTC, which is the next London day in summer time.
    months = Counter()
    # The positions are written into the SQL (literal_column), not bound: PostgreSQL matches a GROUP BY expression
    # to the selected one only when they are the same text, and two bound parameters never are.
    utc_day = func.substr(Incident.occurred_at, literal_column("1"), literal_column("10"))
    late = func.substr(Incident.occurred_at, literal_column("12"), literal_column("2")) == literal_column("'23'")
    for day, is_late, n in session.execute(select(utc_day, late, func.count()).where(where).group_by(utc_day, late)):
        moment = datetime.fromisoformat(f"{day}T{'23:30' if is_late else '12:00'}+00:00").astimezone(LONDON)
        months[f"{moment.year:04d}-{moment.month:02d}"] += n
    return months


def _repeats(session, where) -> list[RepeatPerson]:
    """The people (reference, role, type) in more than one incident in view, most incidents first. Counted from
    each incident's `people_refs` summary (migration 0024: read from its partial index alone, grouped so each
    distinct set of people comes back once); an incident of too many people to summarise is read from its people.
    """
    has_refs = Incident.people_refs != literal_column("''")  # a literal, so both engines use the partial index
    counts: Counter = Counter()
    for refs, n in session.execute(select(Incident.people_refs, func.count()).where(where, has_refs)
                                   .group_by(Incident.people_refs)):
        if refs != TOO_MANY_PEOPLE:
            for person in refs.split(RECORD):
                counts[tuple(person.split(UNIT))] += n
    person = (PersonInvolved.local_ref, PersonInvolved.role, PersonInvolved.person_type)
    many = select(Incident.id).where(where, Incident.people_refs == TOO_MANY_PEOPLE)
    for row in session.execute(select(*person, PersonInvolved.incident_id).distinct()
                               .where(PersonInvolved.incident_id.in_(many), PersonInvolved.local_ref != "")):
        counts[tuple(row[:3])] += 1
    repeats = [RepeatPerson(*key, n) for key, n in counts.items() if n > 1]
    return sorted(repeats, key=lambda p: (-p.incidents, p.local_ref, p.role, p.person_type))


def _open_actions(session, where, now_text: str) -> tuple[int, int]:
    # Open actions are few: walk them on the (status, due, incident) index and test each one's incident
    # by its key. (The filter as a scalar subquery keyed on the incident id, so SQLite cannot drive from
    # the far larger set of incidents in view.)
    in_view_by_key = select(where).where(Incident.id == SafeguardingAction.incident_id).scalar_subquery()
    open_actions, overdue = session.execute(
        select(func.count(), func.count().filter(SafeguardingAction.due_at < now_text))
        .where(SafeguardingAction.status == "open", in_view_by_key)).one()
    return open_actions, overdue


def drill_down(board: Dashboard, dimension: str, code: str) -> IncidentQuery:
    """The incident-list query behind one bar of a dashboard."""
    if dimension not in DIMENSIONS:
        raise ValidationError({"dimension": "Unknown breakdown."})
    query = IncidentQuery(ward_id=board.ward_id, date_from=board.date_from, date_to=board.date_to,
                          service_type=board.service_type)
    name = {"type": "type_code", "pair": "pair"}.get(dimension, dimension)
    return replace(query, **{name: code})


def parse_day(text: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError({what: f"Give the {what} date as YYYY-MM-DD."}) from None

