"""Benchmarks of the pure export formats (pytest-benchmark; figures only, no timing asserts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import cycle

from core.dto import ActionInfo, IncidentDetail, IncidentDraft, PersonDraft
from core.exports import lfpse_json, nrls_csv, nrls_xml, pdf
from core.exports.mapping import ExportContext, to_record
from core.exports.summary import summarise
from core.taxonomy import load_taxonomy

TAX = load_taxonomy()
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
CTX = ExportContext(ods_code="RXX", generated_at=NOW, ward_service_types={1: "adult_acute"})
TYPES = cycle([("SS-SA",), ("SS-HAR-V", "SS-EXP-S"), ("SS-RAPE",), ("SS-VOY",)])
PERPS = cycle(["patient", "staff", "unknown", "visitor"])


def _details(count: int) -> list[IncidentDetail]:
    out = []
    for i in range(count):
        when = NOW - timedelta(hours=7 * i % 8760)
        people = (PersonDraft(role="affected", person_type="patient", sex="female", age_years=20 + i % 60,
                              harm_physical="none", harm_psychological="low"),
                  PersonDraft(role="alleged_perpetrator", person_type=next(PERPS)))
        draft = IncidentDraft(ward_id=1, types=next(TYPES), occurred_at=when, location="lounge", people=people,
                              description="Synthetic description of what happened, a few sentences long. " * 3,
                              immediate_actions="Separated; observations increased.")
        action = ActionInfo(i, f"id{i}", f"LAN-2026-{i:05d}", "adult-safeguarding-concern", "Raise a concern", "", "",
                            "", "ward_manager", "Ward manager", None, True, "hours", when + timedelta(days=1),
                            "open", "", "", None)
        out.append(IncidentDetail(f"id{i}", f"LAN-2026-{i:05d}", 1, "Oak Ward", "submitted", "r", draft, when, when,
                                  None, "patient_on_patient", "none", "low", 2, False, False, "", 1, (action,)))
    return out


DETAILS = _details(10_000)


def test_bench_nrls_xml_10k_with_validation(benchmark):
    data = benchmark(lambda: nrls_xml.render([to_record(d, CTX, TAX) for d in DETAILS], CTX))
    assert data.startswith(b"<?xml")


def test_bench_nrls_csv_10k(benchmark):
    benchmark(lambda: nrls_csv.render([to_record(d, CTX, TAX) for d in DETAILS], CTX))


def test_bench_lfpse_json_10k(benchmark):
    benchmark(lambda: lfpse_json.render([to_record(d, CTX, TAX) for d in DETAILS], CTX))


def test_bench_ward_pdf_year(benchmark):
    year = DETAILS[:1250]  # about a year on a busy ward (all 10k span a year)
    period = (date(2026, 1, 1), date(2026, 12, 31))
    benchmark(lambda: pdf.ward_report(summarise(year, TAX, ward_name="Oak Ward", period=period, now=NOW),
                                      generated_at=NOW))


def test_bench_incident_pdf(benchmark):
    data = benchmark(lambda: pdf.incident_summary(DETAILS[0], TAX, generated_at=NOW))
    assert data.startswith(b"%PDF")
