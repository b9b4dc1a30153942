"""NRLS-dataset-aligned CSV, the twin of the XML: one row per incident, UTF-8 with BOM, safe in Excel (core layer).

Pure: ExportRecords in, bytes out. Columns are named by NRLS item code (docs/exports.md). Values about
each affected patient are joined with " | " in patient order, so one row holds every patient.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterable
from typing import BinaryIO

from core.exports.mapping import (
    IN03_LVL1_LABEL,
    IN04_ENGLAND,
    IN05_LVL2_LABEL,
    RM04_LRMS,
    RP02_LOCAL,
    SCHEMA_VERSION,
    ExportContext,
    ExportRecord,
    bool_text,
)
from core.exports.render import render as render_with

HEADER = (
    "TRUSTINCIDENTID", "RP01", "RP07", "RP02_LABEL", "RM04", "IN01", "IN02", "IN03_LVL1_LABEL", "IN03_LOCAL_CODE",
    "IN03_TEXT", "IN04", "IN05_LVL1_LABEL", "IN05_LVL2_LABEL", "IN05_TEXT", "IN07", "IMMEDIATE_ACTIONS",
    "PD09", "PD09_LABEL", "LFPSE_OT001", "LFPSE_OT002", "PATIENTS_AFFECTED", "AGE_YEARS", "DV01_LFPSE_AGEBRACKET",
    "PD02_LABEL", "PD05_LVL1_LABEL", "PD05_LVL2_LABEL", "LFPSE_SPECIALTY", "X_TYPE_CODES", "X_PERPETRATOR_TYPE",
    "X_PAIR", "X_TIME_PRECISION", "X_SHIFT", "X_FLAGS", "X_PATIENT_SAFETY_INCIDENT", "X_SAFEGUARDING_REFERRAL",
    "X_POLICE_INFORMED", "X_CQC_NOTIFIABLE", "X_DUTY_OF_CANDOUR", "X_DETAINED_MHA", "SCHEMA_VERSION",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
JOIN = " | "
WITHHELD = "[withheld]"
FLUSH_ROWS = 500


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text, never run: a leading ' before = + - @ tab, CR, LF or NUL (OWASP
    ASVS 5.0, 1.2.10). It looks at the final cell, so text already cleaned (CR made LF) is judged as written;
    a formula sign after leading white space, or in its full-width form (＝ ＋ － ＠), counts too."""
    text = "" if value is None else str(value)
    first = unicodedata.normalize("NFKC", text.lstrip(" \t\r\n\0\x0b\x0c\u00a0\u3000")[:1])
    return "'" + text if text.startswith(FORMULA_STARTS) or (first and first in "=+-@") else text


def _code(value) -> str:
    return "" if value is None else str(value.code)


def _label(value) -> str:
    return "" if value is None else value.label


def _each(values) -> str:
    return JOIN.join("" if v is None else str(v) for v in values)


def _patient_cells(r: ExportRecord) -> list[str]:
    """PATIENTS_AFFECTED to LFPSE_SPECIALTY: each patient's values joined in patient order."""
    patients = r.patients
    lvl1, lvl2, specialty_code = r.specialty if patients else ("", "", "")
    return [str(len(patients)), _each(p.age_years for p in patients),
            _each(p.age_bracket.code if p.age_bracket else None for p in patients),
            _each(p.sex.label if p.sex else None for p in patients), lvl1, lvl2, str(specialty_code or "")]


def row_for(r: ExportRecord) -> list[str]:
    """The CSV row for one incident, before cell neutralising."""
    return [
        r.reference, "", r.ods_code, RP02_LOCAL[1], str(RM04_LRMS[0]), r.occurred_date, r.occurred_time or "",
        IN03_LVL1_LABEL, str(r.location.code), r.location_text, str(IN04_ENGLAND[0]), r.in05_lvl1, IN05_LVL2_LABEL,
        "; ".join(t.label for t in r.types),
        WITHHELD if r.description is None else r.description,
        WITHHELD if r.immediate_actions is None else r.immediate_actions,
        _code(r.pd09), _label(r.pd09), _code(r.physical), _code(r.psychological),
        *_patient_cells(r),
        " ".join(str(t.code) for t in r.types), r.perpetrator_type, r.pair or "", r.precision,
        _label(r.shift), " ".join(str(f.code) for f in r.flags),
        bool_text(r.patient_safety_incident), bool_text(r.safeguarding_referral), bool_text(r.police_informed),
        bool_text(r.cqc_notifiable), bool_text(r.duty_of_candour), bool_text(r.detained_under_mha), SCHEMA_VERSION,
    ]


class Writer:
    """RFC 4180 CSV (CRLF line ends, quoted where needed), UTF-8 with a BOM so Excel reads it as UTF-8,
    streamed to a binary file a few hundred rows at a time."""

    def __init__(self, fh: BinaryIO, ctx: ExportContext, count: int = 0) -> None:
        self.fh, self.rows = fh, 0
        self.buf = io.StringIO(newline="")
        self.csv = csv.writer(self.buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        fh.write(codecs.BOM_UTF8)
        self.csv.writerow(HEADER)

    def add(self, record: ExportRecord) -> None:
        self.csv.writerow([safe_cell(v) for v in row_for(record)])
        self.rows += 1
        if self.rows % FLUSH_ROWS == 0:
            self._flush()

    def end(self) -> int:
        self._flush()
        return self.rows

    def _flush(self) -> None:
        self.fh.write(self.buf.getvalue().encode("utf-8"))
        self.buf.seek(0)
        self.buf.truncate()


def render(records: Iterable[ExportRecord], ctx: ExportContext) -> bytes:
    """The whole file as bytes, through Writer (core.exports.render)."""
    return render_with(Writer, records, ctx)
