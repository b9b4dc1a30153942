"""Issue 12 (D): how the new incident types, their rules and the new kinds of staff map to the NRLS dataset
and the LFPSE bundle (docs/exports.md, "New incident types and staff kinds"). Pure: hand-built DTOs, no store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree

from core.dto import ActionInfo, IncidentDetail, IncidentDraft, PersonDraft
from core.exports import lfpse_json, nrls_csv, nrls_xml
from core.exports.mapping import (
    CQC_RULES,
    EXT_NS,
    IN05_OTHER,
    IN05_THIRD_PARTY,
    NRLS_NS,
    POLICE_RULES,
    SAFEGUARDING_RULES,
    ExportContext,
    to_record,
)
from core.rules import load_rules
from core.taxonomy import STAFF_PERSON_TYPES, load_taxonomy

TAX = load_taxonomy()
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
N = {"n": NRLS_NS, "x": EXT_NS}
NEW_TYPES = ("SS-IMG-CHILD", "SS-CSE", "SS-TRAFFIC", "SS-DFSA", "SS-DA-VISIT")


def action(rule_id: str, status: str = "done") -> ActionInfo:
    return ActionInfo(1, "id-1", "LAN-2026-00001", rule_id, f"Do {rule_id}", "", "", "", "nurse", "Nurse", None, True,
                      "immediate", NOW + timedelta(hours=1), status, "Done as the rule says.", "CR-0001", None)


def detail(types=("SS-SA",), people=None, actions=()) -> IncidentDetail:
    if people is None:
        people = (PersonDraft(role="affected", person_type="patient", local_ref="AB-1", age_years=33,
                              harm_physical="none", harm_psychological="low"),)
    draft = IncidentDraft(ward_id=1, types=tuple(types), occurred_at=datetime(2026, 3, 14, 21, 40, tzinfo=UTC),
                          occurred_precision="exact", location="visiting_room", people=tuple(people),
                          description="Synthetic test incident.", immediate_actions="Separated.")
    return IncidentDetail("id-1", "LAN-2026-00001", 1, "Oak Ward", "submitted", "reporter-id", draft, NOW, NOW, None,
                          "unknown_on_patient", "none", "low", 2, False, False, "", 1, tuple(actions))


def ctx() -> ExportContext:
    return ExportContext(ods_code="RXX", generated_at=NOW, period_start=date(2026, 3, 1),
                         period_end=date(2026, 3, 31), ward_service_types={1: "adult_acute"})


def xml_incident(d: IncidentDetail) -> etree._Element:
    data = nrls_xml.render([to_record(d, ctx(), TAX)], ctx())  # the XSD check runs inside render
    return etree.fromstring(data).find("n:Incident", N)


def lfpse_blocks(d: IncidentDetail) -> dict[str, dict]:
    event = json.loads(lfpse_json.render([to_record(d, ctx(), TAX)], ctx()))["entry"][0]["resource"]
    blocks = {}
    for ext in event["extension"]:
        if "extension" in ext:
            blocks[ext["url"].rsplit("/", 1)[-1]] = [(e["url"], next(v for k, v in e.items() if k.startswith("value")))
                                                     for e in ext["extension"]]
    return blocks


@pytest.mark.parametrize("code", NEW_TYPES)
def test_each_new_type_travels_with_its_code_and_label_in_every_format(code):
    d = detail(types=(code,))
    label = TAX.type_label(code)
    ext = xml_incident(d).find("x:SexualSafety", N)
    assert [(t.get("code"), t.get("label")) for t in ext.findall("x:Type", N)] == [(code, label)]
    row = list(nrls_csv.render([to_record(d, ctx(), TAX)], ctx()).decode("utf-8-sig").splitlines())[1]
    assert code in row and label in row
    event = json.loads(lfpse_json.render([to_record(d, ctx(), TAX)], ctx()))["entry"][0]["resource"]
    types = next(e for e in event["extension"] if e["url"] == lfpse_json.LOCAL_TYPES_URL)["extension"]
    assert [(t["valueCoding"]["code"], t["valueCoding"]["display"]) for t in types] == [(code, label)]


@pytest.mark.parametrize("kind", sorted(STAFF_PERSON_TYPES - {"staff"}))
def test_bank_agency_contractor_and_volunteer_perpetrators_export_as_staff_and_pass_the_schema(kind):
    # Before: the XML export of any incident naming one of these failed its schema check (PersonType), and the
    # perpetrator was sent as 'unknown' (IN05 'Other', LFPSE 'I don't know').
    people = (PersonDraft(role="affected", person_type="patient", local_ref="AB-1", age_years=33,
                          harm_physical="none", harm_psychological="moderate"),
              PersonDraft(role="alleged_perpetrator", person_type=kind, local_ref="CD-2"))
    incident = xml_incident(detail(types=("SS-STAFF",), people=people))
    assert incident.find("n:IN05", N).get("lvl1Label") == IN05_THIRD_PARTY
    ext = incident.find("x:SexualSafety", N)
    assert ext.get("perpetratorType") == "staff"
    person = ext.findall("x:Person", N)[1]
    assert person.get("type") == "staff" and person.get("typeLabel") == TAX.label("person_types", kind)
    agent = dict(lfpse_blocks(detail(types=("SS-STAFF",), people=people))["adverse-event-agent-5"])
    assert agent["InvolvedPersonsActions"] == "1"  # healthcare staff


def test_domestic_abuse_by_a_visitor_is_third_party_abuse_even_when_the_visitor_is_not_recorded():
    incident = xml_incident(detail(types=("SS-DA-VISIT",)))
    assert incident.find("n:IN05", N).get("lvl1Label") == IN05_THIRD_PARTY
    assert incident.find("x:SexualSafety", N).get("perpetratorType") == "visitor"
    agent = dict(lfpse_blocks(detail(types=("SS-DA-VISIT",)))["adverse-event-agent-5"])
    assert agent["InvolvedPersonsActions"] == "5" and agent["InvolvedPersonsActionsOther"] == "Visitor"
    # A recorded perpetrator always wins over what the type implies.
    people = (PersonDraft(role="affected", person_type="patient", local_ref="AB-1"),
              PersonDraft(role="alleged_perpetrator", person_type="patient", local_ref="CD-2"))
    assert to_record(detail(types=("SS-DA-VISIT",), people=people), ctx(), TAX).perpetrator_type == "patient"
    # Other new types imply nobody: grooming may be by another patient or a stranger online.
    assert to_record(detail(types=("SS-CSE",)), ctx(), TAX).in05_lvl1 == IN05_OTHER


@pytest.mark.parametrize("rule_id", ["child-image-police-social-care", "child-exploitation-police-social-care"])
def test_a_completed_police_report_for_a_child_sets_police_cqc_and_safeguarding(rule_id):
    record = to_record(detail(types=("SS-IMG-CHILD",), actions=(action(rule_id),)), ctx(), TAX)
    assert record.police_informed is True and record.cqc_notifiable and record.safeguarding_referral
    gov = dict(lfpse_blocks(detail(types=("SS-IMG-CHILD",), actions=(action(rule_id),)))["adverse-event-governance-5"])
    assert gov["LocalAuthoritySafeguarding"] is True and gov["CqcNotify"] is True and gov["CqcCriteria"] == "3"


def test_an_open_police_report_for_a_child_is_not_yet_police_informed_but_is_notifiable():
    record = to_record(detail(types=("SS-CSE",), actions=(action("child-exploitation-police-social-care", "open"),)),
                       ctx(), TAX)
    assert record.police_informed is None and record.cqc_notifiable and record.safeguarding_referral


def test_trafficking_referral_sets_local_authority_safeguarding_and_marked_not_applicable_does_not():
    done = to_record(detail(types=("SS-TRAFFIC",), actions=(action("trafficking-first-responder"),)), ctx(), TAX)
    assert done.safeguarding_referral and done.police_informed is None
    not_applicable = to_record(detail(types=("SS-TRAFFIC",),
                                      actions=(action("trafficking-first-responder", "not_applicable"),)), ctx(), TAX)
    assert not not_applicable.safeguarding_referral


def test_every_rule_named_by_the_governance_flags_is_a_shipped_rule():
    # 'police-discuss' is kept only for actions recorded before issue 12 replaced it.
    assert (SAFEGUARDING_RULES | CQC_RULES | POLICE_RULES) - {"police-discuss"} <= set(load_rules().ids)
