"""Demo data you can learn from (issue 12, part I): the synthetic generator follows CQC's "Sexual safety on
mental health wards" (September 2018): 1,120 incidents, 298 nudity or exposure, 273 sexual assault, 242 verbal
abuse using sexual words, 29 rape; 5% carried out by staff; about a third of those affected are staff; 97%
graded no or low harm. A CAMHS ward has under-18s, so children's and LADO actions show. Words, exposure, looks
and messages never carry a contact flag, so they never get forensic actions.

The stores are real encrypted stores made through the CLI (`main.py demo`), and the figures are read back with
`main.py report summary`, as a trust analyst would.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from cli import main as cli
from core import paths
from core.db.models import Incident, PersonInvolved, SafeguardingAction, Ward
from core.db.store import unit_of_work
from core.demo.synthetic import CONTACT_TYPES, MIX, plan, quotas, synthetic_incident
from core.security.keyslots import MINIMUM_KDF
from core.services import accounts, closure, incidents, maintenance

CQC_INCIDENTS = 1120
# CQC 2018 category: (incidents, the Lantern type codes counted in it), from the design notes (domain.md (c)).
# Harassment is 457 "assault or harassment" less the 273 assaults (unconfirmed there); "other" is the rest.
CQC_2018 = {
    "nudity or exposure": (298, ("SS-EXP-S", "SS-NUD-NS")),
    "sexual assault": (273, ("SS-SA", "SS-APEN")),
    "verbal abuse using sexual words": (242, ("SS-HAR-V",)),
    "rape": (29, ("SS-RAPE",)),
    "sexual harassment": (184, ("SS-HAR-NV",)),
    "other": (94, ("SS-ONLINE", "SS-VOY", "SS-ACT-CONS", "SS-SA-MD", "SS-DISCL-HIST", "SS-EXPL", "SS-OTHER")),
}
FORENSIC_RULES = {"evidence-preserve", "sarc-referral-offer", "pepse-assessment", "emergency-contraception"}
NON_CONTACT_TYPES = {"SS-HAR-V", "SS-HAR-NV", "SS-EXP-S", "SS-NUD-NS", "SS-VOY", "SS-ONLINE"}
DEMO = paths.DEMO_PASSWORD


def run_cli(argv: list[str], password: str = DEMO) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(argv, io.StringIO(password + "\n"), out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_mix_is_cqcs_table_row_for_row():
    assert sum(k.weight for k in MIX) == CQC_INCIDENTS
    for category, (count, codes) in CQC_2018.items():
        assert sum(k.weight for k in MIX if k.types[0] in codes) == count, category
    assert sum(count for count, _codes in CQC_2018.values()) == CQC_INCIDENTS


def test_five_percent_by_staff_some_against_staff_and_ss_staff_only_for_touching_a_patient():
    staff = [k for k in MIX if k.perpetrator == "staff"]
    assert sum(k.weight for k in staff) == round(0.05 * CQC_INCIDENTS)
    assert sum(k.weight for k in staff if k.affected == "staff") > 0  # staff-on-staff incidents
    for kind in MIX:
        assert ("SS-STAFF" in kind.types) == (kind.perpetrator == "staff" and kind.affected == "patient"
                                              and bool(CONTACT_TYPES & set(kind.types)))


@pytest.mark.parametrize("count", [0, 1, 3, 50, 300, 1120, 5000])
def test_each_row_gets_its_share_of_any_count(count):
    counts = quotas(random.Random(count), [k.weight for k in MIX], count)
    assert sum(counts) == count
    for kind, n in zip(MIX, counts, strict=True):
        assert abs(n - kind.weight * count / CQC_INCIDENTS) < 1
    assert len(plan(random.Random(1), count)) == count


def test_seeding_is_deterministic():
    def drafts(seed):
        rng = random.Random(seed)
        return [synthetic_incident(rng, 1, incidents.utcnow(), [], kind=kind) for kind in plan(rng, 40)]

    when = incidents.utcnow()
    first = [synthetic_incident(random.Random(9), 1, when, []) for _ in range(5)]
    assert first == [synthetic_incident(random.Random(9), 1, when, []) for _ in range(5)]
    assert [d.types for d in drafts(4)] == [d.types for d in drafts(4)] != [d.types for d in drafts(5)]


@pytest.fixture(scope="module")
def cqc_store(tmp_path_factory):
    """`main.py demo --incidents 1120` once for the module (minimum Argon2id cost; it changes no behaviour)."""
    base = tmp_path_factory.mktemp("cqc")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("LOG", "CONFIG", "SITE_CONFIG", "DATA"):
            mp.setenv(f"LANTERN_{name}_DIR", str(base / name.lower()))
        real = accounts.init_store
        mp.setattr(accounts, "init_store", lambda *a, **kw: real(*a, **{"kdf": MINIMUM_KDF, **kw}))
        folder = base / "demo"
        code, out, err = run_cli(["demo", "--store", str(folder), "--incidents", str(CQC_INCIDENTS),
                                  "--password-stdin"])
        assert code == 0, err
        assert f"added {CQC_INCIDENTS} synthetic incidents" in out
        code, out, err = run_cli(["report", "summary", "--store", str(folder), "--user", "lead", "--password-stdin",
                                  "--format", "json"])
        assert code == 0, err
        yield folder, json.loads(out)


def test_report_summary_on_a_1120_incident_demo_reproduces_the_cqc_table(cqc_store):
    _folder, board = cqc_store
    assert board["total"] == CQC_INCIDENTS  # every demo incident falls in the summary's default 12 months
    by_type = {b["code"]: b["count"] for b in board["by_type"]}
    for category, (count, codes) in CQC_2018.items():
        found = sum(by_type.get(code, 0) for code in codes)
        assert abs(found - count) <= 0.05 * count, f"{category}: {found} in the demo, {count} in CQC 2018"


def _people_and_actions(folder):
    store, _admin = accounts.sign_in(folder, "admin", DEMO)
    try:
        with unit_of_work(store, write=False) as session:
            people = session.execute(select(PersonInvolved.incident_id, PersonInvolved.role,
                                            PersonInvolved.person_type, PersonInvolved.age_years,
                                            Ward.service_type)
                                     .join(Incident, Incident.id == PersonInvolved.incident_id)
                                     .join(Ward, Ward.id == Incident.ward_id)).all()
            incident_rows = session.execute(select(Incident.id, Incident.type_codes, Incident.flags,
                                                   Incident.harm_physical, Incident.harm_psychological)).all()
            actions = session.execute(select(SafeguardingAction.incident_id, SafeguardingAction.rule_id)).all()
    finally:
        store.close()
    return people, incident_rows, actions


def test_who_did_it_and_to_whom_follow_cqc(cqc_store):
    folder, _board = cqc_store
    people, _rows, _actions = _people_and_actions(folder)
    roles = defaultdict(dict)
    for incident_id, role, person_type, _age, _service in people:
        roles[incident_id].setdefault(role, person_type)
    perpetrators = Counter(r["alleged_perpetrator"] for r in roles.values())
    affected = Counter(r["affected"] for r in roles.values())
    assert perpetrators["staff"] == round(0.05 * CQC_INCIDENTS)
    assert sum(r["affected"] == r["alleged_perpetrator"] == "staff" for r in roles.values()) >= 10
    assert 0.28 <= affected["staff"] / CQC_INCIDENTS <= 0.38  # about a third
    assert 0.58 <= affected["patient"] / CQC_INCIDENTS <= 0.70 and affected["visitor"] > 0


def test_harm_is_mostly_no_or_low_with_some_low_physical_harm(cqc_store):
    folder, board = cqc_store
    _people, rows, _actions = _people_and_actions(folder)
    no_or_low = sum(p in ("none", "low") and s in ("none", "low") for _id, _t, _f, p, s in rows)
    assert 0.95 <= no_or_low / CQC_INCIDENTS <= 0.99  # CQC: 97% graded no or low harm
    physical = {b["code"]: b["count"] for b in board["harm_physical"]}
    assert physical["low"] >= 0.05 * CQC_INCIDENTS and physical.get("moderate", 0) > 0


def test_non_contact_incidents_carry_no_contact_flag_and_get_no_forensic_actions(cqc_store):
    folder, _board = cqc_store
    _people, rows, actions = _people_and_actions(folder)
    non_contact = {i for i, codes, _f, _p, _s in rows if set(codes.split()) <= NON_CONTACT_TYPES}
    assert len(non_contact) > 0.6 * CQC_INCIDENTS
    for incident_id, _codes, flags, _p, _s in rows:
        if incident_id in non_contact:
            assert not {"physical_contact", "penetration_alleged"} & set(json.loads(flags))
    forensic = Counter(i in non_contact for i, rule in actions if rule in FORENSIC_RULES)
    assert forensic[False] > 0 and forensic[True] == 0


def test_the_camhs_ward_has_under_18s_so_childrens_and_lado_actions_show(cqc_store):
    folder, _board = cqc_store
    people, _rows, actions = _people_and_actions(folder)
    children = Counter(service for _i, _role, _type, age, service in people if age is not None and age < 18)
    assert set(children) == {"camhs"} and children["camhs"] > 100
    camhs_patients = [age for _i, _r, kind, age, service in people if service == "camhs" and kind == "patient"]
    assert max(camhs_patients) < 18
    rules = Counter(rule for _i, rule in actions)
    assert rules["childrens-social-care"] > 0 and rules["lado-referral"] > 0


def test_finished_actions_have_what_the_services_require_to_finish_them(cqc_store):
    folder, _board = cqc_store
    store, _admin = accounts.sign_in(folder, "admin", DEMO)
    try:
        with unit_of_work(store, write=False) as session:
            done = session.execute(select(SafeguardingAction.rule_id, SafeguardingAction.mandatory,
                                          SafeguardingAction.note, SafeguardingAction.reference)
                                   .where(SafeguardingAction.status == "done")).all()
    finally:
        store.close()
    assert len(done) > CQC_INCIDENTS
    assert [row for row in done if closure.completion_problems(*row)] == []
    assert any(reference for *_rest, reference in done)


def test_the_store_check_passes_so_the_summary_columns_are_true(cqc_store):
    folder, _board = cqc_store
    code, out, err = run_cli(["check", "--store", str(folder), "--user", "admin", "--password-stdin"])
    assert code == 0, out + err
    assert "ok   dashboard_summaries" in out


@pytest.mark.parametrize("username", ["nurse", "manager", "lead", "admin"])
def test_the_built_in_demo_store_opens_for_every_role(demo_store_folder, username):
    store, actor = accounts.sign_in(demo_store_folder, username, DEMO)
    store.close()
    assert actor.username == username


def test_the_built_in_demo_store_has_a_camhs_ward_and_shows_a_lado_referral(demo_store_folder):
    store, lead = accounts.sign_in(demo_store_folder, "lead", DEMO)
    try:
        assert "camhs" in {w.service_type for w in accounts.list_wards(store, lead)}
        with unit_of_work(store, write=False) as session:
            lado = session.scalar(select(SafeguardingAction.incident_id)
                                  .where(SafeguardingAction.rule_id == "lado-referral").limit(1))
        assert lado is not None
        detail = incidents.get_incident(store, lead, lado)  # the lead opens it as in the app
        assert {"lado-referral", "childrens-social-care"} <= {a.rule_id for a in detail.actions}
        child = next(p for p in detail.draft.people if p.role == "affected")
        assert child.person_type == "patient" and child.age_years < 18 and detail.restricted
        summaries = next(r for r in maintenance.check_store(store, lead) if r.name == "dashboard_summaries")
        assert summaries.ok
    finally:
        store.close()
