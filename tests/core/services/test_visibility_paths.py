"""One visibility rule on every read path (issue 15 item 2): random small stores and every kind of actor, and
each path agrees with the single read by id.

The store (one a module, on each engine: on a server each account reads through its own database login, so
row-level security sits under every path) has two wards, one account per role, and a few random incidents:
either ward, drafts or submitted, restricted types, staff perpetrators linked to an account or not. For each
account (a nurse, the linked member of staff, the reporter, a ward manager of either ward, the lead, the
administrator): single reads by id are the rule in plain words; my incidents are the readable ones I reported;
the review list, the queue, the overdue count, the dashboard, every export kind, the reference look-up and the
re-export flags all give the ward view, which is the readable set less the reporter's own draft or restricted
report. Synthetic data only.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from core.clock import LONDON, utcnow
from core.db.models import ExportLatest, Incident, SafeguardingAction
from core.db.store import unit_of_work
from core.errors import NotFound, PermissionDenied, ValidationError
from core.security.permissions import allowed
from core.services import exports, incidents, queue, reports, review
from core.services.queue import QueueQuery
from core.services.review import IncidentQuery
from tests.core.manager_helpers import draft

ACCOUNTS = ("nurse", "nurse2", "manager", "manager_elm", "lead", "admin")
REPORTERS = {"Oak Ward": ("nurse", "nurse2", "manager", "lead"), "Elm Ward": ("manager_elm", "lead")}
LATER = utcnow() + timedelta(days=400)  # every open action is overdue by then


@st.composite
def incident_specs(draw):
    ward = draw(st.sampled_from(sorted(REPORTERS)))
    reporter = draw(st.sampled_from(REPORTERS[ward]))
    perpetrator = draw(st.sampled_from(["patient", "visitor", "staff", "linked staff", "linked staff"]))
    linked = None
    if perpetrator == "linked staff":  # never the reporter: they could not then submit their own report
        linked = draw(st.sampled_from([a for a in ACCOUNTS[:5] if a != reporter]))
    types = draw(st.sampled_from([("SS-HAR-V",), ("SS-SA",), ("SS-STAFF",), ("SS-SA", "SS-STAFF")]))
    return {"ward": ward, "reporter": reporter, "perpetrator": "staff" if linked else perpetrator, "linked": linked,
            "types": types, "submit": draw(st.booleans()), "hours_ago": draw(st.sampled_from([2, 30, 200]))}


def _oracle(actor, inc, named: set[str]) -> bool:
    """The rule in plain words (docs/security-model.md), written apart from the SQL predicate."""
    if actor.role not in ("nurse", "ward_manager", "safeguarding_lead") or actor.user_id in named:
        return False
    mine = inc.reporter_id == actor.user_id
    if inc.status == "draft":
        return mine
    on_ward = actor.role == "safeguarding_lead" or inc.ward_id in actor.ward_ids
    if inc.restricted:
        return mine or (on_ward and actor.role in ("ward_manager", "safeguarding_lead"))
    return mine or on_ward


def _build(store, actors, wards, specs) -> None:
    """The specs' incidents, each created (and maybe submitted) by its reporter."""
    for spec in specs:
        reporter = actors[spec["reporter"]]
        made = incidents.create_draft(store, reporter, draft(
            wards[spec["ward"]], types=spec["types"], perpetrator=spec["perpetrator"], hours_ago=spec["hours_ago"],
            linked_user_id=actors[spec["linked"]].user_id if spec["linked"] else None))
        if spec["submit"]:
            incidents.submit(store, reporter, made.incident_id)


def _facts(store):
    """Every incident row, who is named in each, and each incident's open actions, read straight from the store."""
    with unit_of_work(store, write=False) as session:
        rows = {inc.id: inc for inc in session.scalars(select(Incident))}
        for inc in rows.values():
            session.expunge(inc)
        named = {i: incidents.named_users(session, i) for i in rows}
        open_actions: dict[str, int] = {}
        for incident_id in session.scalars(select(SafeguardingAction.incident_id)
                                           .where(SafeguardingAction.status == "open")):
            open_actions[incident_id] = open_actions.get(incident_id, 0) + 1
    return rows, named, open_actions


def _readable(store, actor, rows) -> set[str]:
    seen = set()
    for incident_id in rows:
        try:
            incidents.get_incident(store, actor, incident_id)
        except (NotFound, PermissionDenied):
            continue
        seen.add(incident_id)
    return seen


def _ward_view(actor, rows, readable) -> set[str]:
    """The readable set less the reporter's own exceptions: lists of wards show submitted records on the actor's
    wards, restricted ones only to those who may read restricted records."""
    return {i for i in readable if rows[i].status != "draft"
            and (actor.role == "safeguarding_lead" or rows[i].ward_id in actor.ward_ids)
            and (not rows[i].restricted or allowed(actor, "incident.view_restricted"))}


def _period():
    today = utcnow().astimezone(LONDON).date()
    return today - timedelta(days=30), today


def _check_lists(store, actor, rows, readable, view, open_actions):
    if allowed(actor, "incident.create"):
        mine = {s.incident_id for s in incidents.list_my_incidents(store, actor)}
        assert mine == {i for i in readable if rows[i].reporter_id == actor.user_id}
    if allowed(actor, "incident.review"):
        page = review.list_incidents(store, actor, IncidentQuery(status=None), limit=500)
        assert {r.incident_id for r in page.rows} == view
    expected_actions = sum(open_actions.get(i, 0) for i in view)
    if allowed(actor, "action.update"):
        listed = queue.list_queue(store, actor, QueueQuery(), limit=500, now=LATER).rows
        assert {r.incident_id for r in listed} == {i for i in view if open_actions.get(i)} <= readable
        counts = queue.queue_counts(store, actor, QueueQuery(), now=LATER)
        assert counts.open == counts.overdue == len(listed) == expected_actions
    assert queue.overdue_count(store, actor, now=LATER) == (expected_actions if allowed(actor, "action.update")
                                                            else 0)
    if allowed(actor, "report.view"):
        first, last = _period()
        board = reports.dashboard(store, actor, date_from=first, date_to=last)
        assert board.total == len(view) and board.open_actions == expected_actions


def _exported_refs(path: Path) -> set[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {row["TRUSTINCIDENTID"] for row in csv.DictReader(fh)}


def _check_exports(store, actor, rows, readable, view, out: Path, wards, *, pdfs: bool):
    refs = {i: rows[i].reference for i in rows}
    for i in rows:  # the reference look-up is a single read
        try:
            found = exports.incident_id_for_reference(store, actor, refs[i])
        except (NotFound, PermissionDenied):
            found = None
        assert (found == i) == (i in readable and allowed(actor, "export.run"))
    if not allowed(actor, "export.run"):
        return
    for kind in (exports.NRLS_CSV, exports.NRLS_XML, exports.LFPSE_JSON):
        result = exports.export_incidents(store, actor, kind, out_path=out / f"{actor.username}{kind}")
        assert result.incident_count == len(view)
        if kind == exports.NRLS_CSV:
            assert _exported_refs(result.path) == {refs[i] for i in view}
        assert exports.incidents_needing_reexport(store, actor, kind) == []
    if pdfs:  # reportlab is slow: the PDFs are checked in the fixed case, through the same selection
        _check_pdfs(store, actor, rows, readable, view, out, wards)


def _check_pdfs(store, actor, rows, readable, view, out: Path, wards):
    first, last = _period()
    for ward_id in sorted(set(wards.values()) if actor.role == "safeguarding_lead" else actor.ward_ids):
        result = exports.ward_report_pdf(store, actor, ward_id=ward_id, date_from=first, date_to=last,
                                         out_path=out / f"{actor.username}-ward-{ward_id}.pdf")
        assert result.incident_count == len({i for i in view if rows[i].ward_id == ward_id})
    for i in sorted(rows):
        try:
            exports.incident_pdf(store, actor, i, out / f"{actor.username}-{i}.pdf")
        except (NotFound, ValidationError):
            assert i not in view
        else:
            assert i in readable and rows[i].status != "draft"


def _check_reexport(store, actors):
    """Once records change after export, each is flagged to an exporter only if it is in their ward view."""
    with unit_of_work(store) as session:
        exported = set(session.scalars(select(ExportLatest.incident_id).where(ExportLatest.kind == exports.NRLS_CSV)))
        session.execute(update(Incident).values(version=Incident.version + 1))
        session.commit()
    rows, _named, _open = _facts(store)
    for name in ("manager", "manager_elm", "lead"):
        actor = actors[name]
        view = _ward_view(actor, rows, _readable(store, actor, rows))
        flagged = {f.incident_id for f in exports.incidents_needing_reexport(store, actor, exports.NRLS_CSV)}
        assert flagged == view & exported


def check_every_path(store, actors, wards, specs, folder: Path, *, pdfs: bool) -> dict[str, set[str]]:
    """Build the incidents, run every read path for every account; what a test reads for itself it reads
    straight from the store (on a server, as the database owner: tests/both_engines.py sends each service call to
    the acting account's own login, so row-level security sits under every path). Returns what each account
    could read."""
    _build(store, actors, wards, specs)
    seen = {}
    rows, named, open_actions = _facts(store)
    for name in ACCOUNTS:
        actor = actors[name]
        readable = seen[name] = _readable(store, actor, rows)
        assert readable == {i for i, inc in rows.items() if _oracle(actor, inc, named[i])}
        view = _ward_view(actor, rows, readable)
        _check_lists(store, actor, rows, readable, view, open_actions)
        _check_exports(store, actor, rows, readable, view, folder, wards, pdfs=pdfs)
    _check_reexport(store, actors)
    return seen


@pytest.fixture(scope="module")
def paths_store(module_store):
    """One store for the module, on each engine; each case starts from no incidents (`_emptied`)."""
    store, actors, _recovery, wards = module_store
    return store, actors, wards


def _emptied(paths_store):
    store, actors, wards = paths_store
    with unit_of_work(store) as session:  # the children go with their incidents (ON DELETE CASCADE)
        for table in ("export_latest", "export_batches", "incidents"):
            session.execute(text(f"DELETE FROM {table}"))
        session.commit()
    return store, actors, wards


# Each example builds its incidents through the services (a second or two), so no shrinking: a failing store of
# five incidents is read as is.
@settings(max_examples=8, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(incident_specs(), min_size=2, max_size=5))
def test_every_read_path_gives_the_same_incidents(paths_store, specs):
    store, actors, wards = _emptied(paths_store)
    with tempfile.TemporaryDirectory(prefix="lantern-visibility-") as tmp:
        check_every_path(store, actors, wards, specs, Path(tmp), pdfs=False)


def _spec(ward, reporter, perpetrator="patient", linked=None, types=("SS-SA",), submit=True):
    return {"ward": ward, "reporter": reporter, "perpetrator": perpetrator, "linked": linked, "types": types,
            "submit": submit, "hours_ago": 2}


def test_every_path_in_a_fixed_store_the_pdfs_included(paths_store, tmp_path):
    """A fixed case, so the shapes that matter most are always there: a member of staff named (nurse2, and the
    lead on Elm), a restricted type reported by a nurse, a draft, both wards; the PDFs read the same set."""
    store, actors, wards = _emptied(paths_store)
    specs = [_spec("Oak Ward", "nurse", "staff", "nurse2"), _spec("Oak Ward", "nurse", types=("SS-STAFF",)),
             _spec("Oak Ward", "nurse2", submit=False), _spec("Elm Ward", "manager_elm", "staff", "lead"),
             _spec("Elm Ward", "lead", "visitor")]
    seen = check_every_path(store, actors, wards, specs, tmp_path, pdfs=True)
    assert [len(seen[name]) for name in ACCOUNTS] == [2, 1, 2, 2, 3, 0]


@pytest.mark.parametrize("who", ["manager", "manager_elm"])
def test_an_export_of_a_ward_not_ones_own_is_refused(paths_store, tmp_path, who):
    store, actors, wards = paths_store
    other = wards["Elm Ward" if who == "manager" else "Oak Ward"]
    with pytest.raises(PermissionDenied):
        exports.export_incidents(store, actors[who], exports.NRLS_CSV, ward_id=other, out_path=tmp_path / "out.csv",
                                 date_from=date(2026, 1, 1))
