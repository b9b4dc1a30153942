"""PDF reports with reportlab: the incident summary for a safeguarding team, and the ward report (core layer).

Pure: DTOs in, PDF bytes out, built in memory. Pseudonymous: people appear by role and local reference,
never the reporter. Every page says OFFICIAL-SENSITIVE and carries the page number and when it was made.
Fonts: Bitstream Vera, the TrueType family that reportlab ships, registered here and embedded (subset) in
every PDF, so it looks the same on any machine; no unembedded base-14 font (Helvetica) is used. Characters
outside Vera's Latin set (for example emoji) show as a box.
"""

from __future__ import annotations

import io
import time
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import TimeStamp
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.clock import local
from core.dto import ActionInfo, IncidentDetail
from core.exports.summary import WardSummary
from core.taxonomy import PD09_LABELS, Taxonomy, pair_label

MARKING = "OFFICIAL-SENSITIVE"
FONT, FONT_BOLD = "LanternVera", "LanternVera-Bold"
FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf", "LanternVera-Italic": "VeraIt.ttf",
              "LanternVera-BoldItalic": "VeraBI.ttf"}


def register_fonts() -> None:
    """Register the Vera TrueType fonts reportlab ships (once); TrueType fonts are always embedded."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, filename))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic="LanternVera-Italic",
                                  boldItalic="LanternVera-BoldItalic")


register_fonts()
NAVY = colors.HexColor("#1F3A5F")
LIGHT = colors.HexColor("#E8EEF5")
RED = colors.HexColor("#B00020")
MARGIN = 18 * mm
MAX_OVERDUE_ROWS = 60  # the ward report lists the longest overdue actions; the app holds the full list

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle("title", parent=_base["Title"], fontName=FONT_BOLD, fontSize=16, leading=20,
                            spaceAfter=2, alignment=0, textColor=NAVY),
    "ref": ParagraphStyle("ref", parent=_base["Normal"], fontName=FONT_BOLD, fontSize=13, leading=16,
                          spaceAfter=4),
    "h2": ParagraphStyle("h2", parent=_base["Heading2"], fontName=FONT_BOLD, fontSize=11.5, leading=14,
                         spaceBefore=9, spaceAfter=4, textColor=NAVY, keepWithNext=1),
    "body": ParagraphStyle("body", parent=_base["Normal"], fontName=FONT, fontSize=9.5, leading=12.5),
    "small": ParagraphStyle("small", parent=_base["Normal"], fontName=FONT, fontSize=8, leading=10),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontName=FONT, fontSize=8.5, leading=10.5),
    "cellb": ParagraphStyle("cellb", parent=_base["Normal"], fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
    "notice": ParagraphStyle("notice", parent=_base["Normal"], fontName=FONT, fontSize=8.5, leading=11,
                             backColor=LIGHT, borderPadding=(4, 5, 4, 5), spaceBefore=2, spaceAfter=6),
    "centre": ParagraphStyle("centre", parent=_base["Normal"], fontName=FONT, fontSize=8.5,
                             alignment=TA_CENTER),
}
STATUS_LABELS = {"submitted": "Submitted", "in_review": "In review", "closed": "Closed", "draft": "Draft"}


# ----- shared page furniture --------------------------------------------------------------------------------

def _timestamp(moment: datetime) -> TimeStamp:
    """The PDF's creation and modification date: when the report was generated (not reportlab's fixed 2000-01-01)."""
    stamp = TimeStamp(invariant=True)  # UTC, and a document ID that depends only on the content
    stamp.t = moment.timestamp()
    stamp.lt = time.gmtime(stamp.t)
    stamp.YMDhms = tuple(stamp.lt)[:6]
    return stamp


def _numbered_canvas(generated: str, title: str, generated_at: datetime):
    """A canvas class that draws the marking, title, 'generated' line and 'Page n of m' on every page."""

    class NumberedCanvas(pdfcanvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []
            self._doc._timeStamp = _timestamp(generated_at)

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._furniture(total)
                super().showPage()
            super().save()

        def _furniture(self, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFillColor(RED)
            self.setFont(FONT_BOLD, 10)
            self.drawCentredString(width / 2, height - 11 * mm, MARKING)
            self.drawCentredString(width / 2, 7 * mm, MARKING)
            self.setFillColor(colors.black)
            self.setFont(FONT, 7.5)
            self.drawString(MARGIN, height - 11 * mm, title)
            self.drawRightString(width - MARGIN, height - 11 * mm, f"Page {self._pageNumber} of {total}")
            self.drawString(MARGIN, 12 * mm, f"Generated {generated} by Lantern. Pseudonymous: no names.")
            self.drawRightString(width - MARGIN, 12 * mm, f"Page {self._pageNumber} of {total}")
            self.setStrokeColor(colors.grey)
            self.setLineWidth(0.4)
            self.line(MARGIN, height - 13 * mm, width - MARGIN, height - 13 * mm)
            self.line(MARGIN, 15 * mm, width - MARGIN, 15 * mm)
            self.restoreState()

    return NumberedCanvas


def _build(story: list, *, title: str, generated_at: datetime) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=title, author="Lantern", subject=MARKING,
                            creator="Lantern", invariant=True, lang="en-GB", keywords="pseudonymous, no names",
                            initialFontName=FONT)  # else each page's preamble names Helvetica
    doc.build(story, canvasmaker=_numbered_canvas(_when(generated_at), title, generated_at))
    return buf.getvalue()


def _p(text: str, style: str = "cell") -> Paragraph:
    """A paragraph of user text: escaped, line breaks kept."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")  # a bare CR is a line break too
    return Paragraph(escape(text).replace("\n", "<br/>"), STYLES[style])


def _day(value) -> str:
    """'7 Mar 2026' (no leading zero, on every platform)."""
    return f"{value.day} {value:%b %Y}"


def _when(moment: datetime | None, *, with_time: bool = True) -> str:
    """UK local date and time, e.g. '7 Mar 2026 21:40'."""
    if moment is None:
        return "Not recorded"
    at = local(moment)
    return f"{_day(at)} {at:%H:%M}" if with_time else _day(at)


def _table(rows: list[list], widths: list[float], *, header: bool = True, zebra: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
             ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
             ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), LIGHT))
    if zebra:
        style += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#F7F9FB")) for i in range(2, len(rows), 2)]
    table.setStyle(TableStyle(style))
    return table


def _facts(rows: list[tuple[str, object]]) -> Table:
    """A two-column key/value table."""
    width = A4[0] - 2 * MARGIN
    cells = [[_p(k, "cellb"), v if isinstance(v, Paragraph) else _p(str(v))] for k, v in rows]
    table = Table(cells, colWidths=[46 * mm, width - 46 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (0, -1), LIGHT),
                               ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]))
    return table


# ----- incident summary -----------------------------------------------------------------------------------

def _action_status(a: ActionInfo, now: datetime) -> str:
    if a.status == "done":
        return f"Done {_when(a.completed_at, with_time=False)}" if a.completed_at else "Done"
    if a.status == "not_applicable":
        return "Not applicable"
    if a.due_at is not None and a.due_at < now:
        return "OVERDUE"
    return "Open"


def _person_harm(tax: Taxonomy, physical: str | None, psychological: str | None) -> str:
    if not physical and not psychological:
        return ""
    return (f"{tax.label('harm_physical', physical) if physical else 'Physical not graded'}; "
            f"{tax.label('harm_psychological', psychological) if psychological else 'psychological not graded'}")


def _person_facts(tax: Taxonomy, p) -> str:
    """Detention, capacity, care needs and police wishes, where recorded."""
    facts = []
    if p.detained is not None:
        facts.append("Detained under the MHA" if p.detained else "Not detained")
    if p.capacity_concern:
        facts.append("Concern about capacity")
    if p.care_support_needs:
        facts.append("Has care and support needs")
    if p.police_wishes:
        facts.append(tax.label("police_wishes", p.police_wishes))
    return "; ".join(facts)


def incident_summary(detail: IncidentDetail, tax: Taxonomy, *, generated_at: datetime,
                     include_free_text: bool = True) -> bytes:
    """The incident summary PDF for a safeguarding team."""
    d = detail.draft
    width = A4[0] - 2 * MARGIN
    withheld = "Free text withheld from this export by the person who made it."
    story = _summary_heading(detail) + [_facts(_summary_facts(detail, tax)), Paragraph("People involved", STYLES["h2"]),
                                        _people_table(d.people, tax, include_free_text, width)]
    story += [Paragraph("What happened", STYLES["h2"]),
              _p(d.description if include_free_text else withheld, "body"),
              Paragraph("Immediate actions taken", STYLES["h2"]),
              _p((d.immediate_actions or "None recorded") if include_free_text else withheld, "body"),
              Paragraph("Safeguarding actions", STYLES["h2"]),
              _actions_table(detail.actions, generated_at, include_free_text, width)]
    open_count = sum(1 for a in detail.actions if a.status == "open")
    overdue = sum(1 for a in detail.actions if _action_status(a, generated_at) == "OVERDUE")
    story.append(Spacer(1, 4))
    story.append(_p(f"{open_count} action(s) open, {overdue} overdue, as at {_when(generated_at)}.", "small"))
    return _build(story, title=f"Incident summary {detail.reference}", generated_at=generated_at)


def _summary_heading(detail: IncidentDetail) -> list:
    story = [
        Paragraph("Sexual safety incident summary", STYLES["title"]),
        Paragraph(escape(detail.reference), STYLES["ref"]),
        Paragraph("For the safeguarding team. People are identified only by their role and the ward's local "
                  "reference, never by name. The person who reported it is not named. Keep this document "
                  "secure and share it only with those who need it.", STYLES["notice"]),
    ]
    if detail.restricted:
        story.append(Paragraph("<b>Restricted record:</b> a member of staff is named as the alleged perpetrator. "
                               "Do not share it with that person or their colleagues on the ward.",
                               STYLES["notice"]))
    return story


def _summary_facts(detail: IncidentDetail, tax: Taxonomy) -> list:
    """The incident's facts table: reference, ward, when, where, types, who to whom, harm, reported, status."""
    d = detail.draft
    when = _when(d.occurred_at)
    if d.occurred_precision == "approximate":
        when = f"About {when}" + (f" ({tax.label('shifts', d.shift)})" if d.shift else "")
    types = "<br/>".join(f"{escape(tax.type_label(c))} <font color='#555555'>({escape(c)})</font>" for c in d.types)
    facts = [
        ("Reference", Paragraph(f"<b>{escape(detail.reference)}</b>", STYLES["cell"])),
        ("Ward", detail.ward_name),
        ("When it happened (UK time)", when),
        ("Where", tax.label("locations", d.location) if d.location else "Not recorded"),
        ("Type of incident", Paragraph(types or "Not recorded", STYLES["cell"])),
        ("Who to whom", pair_label(detail.pair) if detail.pair else "Not recorded"),
        ("Harm", Paragraph(_summary_harm(detail, tax), STYLES["cell"])),
        ("Reported", _when(detail.reported_at)),
        ("Status", STATUS_LABELS.get(detail.status, detail.status)),
    ]
    if d.flags:
        facts.insert(5, ("Also recorded", "; ".join(tax.label("context_flags", f) for f in d.flags)))
    return facts


def _summary_harm(detail: IncidentDetail, tax: Taxonomy) -> str:
    harm = (f"<b>{escape(PD09_LABELS.get(detail.pd09, 'Not graded'))}</b> (NRLS degree of harm"
            f"{' ' + str(detail.pd09) if detail.pd09 else ''} of 5). Worst across affected people: "
            f"{escape(_person_harm(tax, detail.harm_physical, detail.harm_psychological) or 'not graded')}.")
    if detail.harm_confirmation_needed:
        harm += " <font color='#B00020'><b>Harm grading awaits a manager's confirmation.</b></font>"
    return harm


def _people_table(people, tax: Taxonomy, include_free_text: bool, width: float) -> Table:
    rows = [[_p(h, "cellb") for h in ("Role", "Type", "Local ref.", "Sex, age", "Harm", "Also known")]]
    for p in people:
        age = f"{p.age_years}" if p.age_years is not None else (tax.label("age_bands", p.age_band)
                                                                 if p.age_band else "")
        sex_age = ", ".join(x for x in (tax.label("sexes", p.sex) if p.sex else "", age) if x)
        rows.append([_p(tax.label("person_roles", p.role)), _p(tax.label("person_types", p.person_type)),
                     _p((p.local_ref or "None given") if include_free_text else "Withheld"),
                     _p(sex_age or "Not recorded"),
                     _p(_person_harm(tax, p.harm_physical, p.harm_psychological)), _p(_person_facts(tax, p))])
    if len(rows) == 1:
        rows.append([_p("No one recorded")] + [_p("")] * 5)
    return _table(rows, [29 * mm, 20 * mm, 22 * mm, 22 * mm, 40 * mm, width - 133 * mm])


def _actions_table(actions, generated_at: datetime, include_free_text: bool, width: float) -> Table:
    rows = [[_p(h, "cellb") for h in ("Action", "Owner", "Due", "Status", "Note / reference")]]
    for a in actions:
        note = " ".join(x for x in (a.note if include_free_text else "", a.reference) if x)
        status = _action_status(a, generated_at)
        status_cell = (Paragraph(f"<font color='#B00020'><b>{status}</b></font>", STYLES["cell"])
                       if status == "OVERDUE" else _p(status))
        title = a.title + ("" if a.mandatory else " (optional)")
        rows.append([_p(title), _p(a.owner_label or a.owner_role), _p(_when(a.due_at)), status_cell, _p(note)])
    if len(rows) == 1:
        rows.append([_p("No actions recorded")] + [_p("")] * 4)
    return _table(rows, [50 * mm, 32 * mm, 30 * mm, 30 * mm, width - 142 * mm])


# ----- ward report --------------------------------------------------------------------------------------------

def share(count: int, total: int) -> str:
    """A percentage for a table: never '0%' for something that happened, nor '100%' for less than all."""
    if not total:
        return "-"
    pct = 100 * count / total
    if 0 < pct < 0.5:
        return "<1%"
    if 99.5 <= pct < 100:
        return ">99%"
    return f"{pct:.0f}%"


def _count_table(title: str, rows: tuple[tuple[str, int], ...], total: int, *, share_column: bool = True,
                 heading: str = "") -> list:
    """A count table, kept on one page with its heading (if any), so no heading is stranded at a page foot."""
    width = A4[0] - 2 * MARGIN
    cells = [[_p(title, "cellb"), _p("Count", "cellb")] + ([_p("Share", "cellb")] if share_column else [])]
    for label, count in rows:
        cells.append([_p(label), _p(str(count))] + ([_p(share(count, total))] if share_column else []))
    if len(cells) == 1:
        cells.append([_p("None in this period"), _p("0")] + ([_p("-")] if share_column else []))
    widths = [width - 50 * mm, 25 * mm, 25 * mm] if share_column else [width - 25 * mm, 25 * mm]
    head = [Paragraph(heading, STYLES["h2"])] if heading else []
    return [KeepTogether([*head, _table(cells, widths)])]


def _month_chart(rows: tuple[tuple[str, int], ...]) -> Drawing:
    width = A4[0] - 2 * MARGIN
    drawing = Drawing(width, 62 * mm)
    drawing.initialFontName = FONT  # the renderer's starting font, else Helvetica
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 12 * mm, width - 18 * mm, 45 * mm
    chart.data = [[count for _, count in rows] or [0]]
    chart.categoryAxis.categoryNames = [label for label, _ in rows] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(rows) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(rows) > 8 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    top = max((count for _, count in rows), default=0)
    chart.valueAxis.valueMax = max(top, 1) * 1.15
    chart.valueAxis.valueStep = max(1, round(max(top, 1) / 5))
    chart.bars[0].fillColor = NAVY
    chart.barLabelFormat = lambda value: f"{value:.0f}" if value else ""
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 5
    drawing.add(chart)
    return drawing


def ward_report(s: WardSummary, *, generated_at: datetime) -> bytes:
    """The ward report PDF: figures and tables only, no incident text."""
    width = A4[0] - 2 * MARGIN
    start, end = s.period
    period = f"{_day(start)} to {_day(end)}"
    story: list = [
        Paragraph(f"Sexual safety ward report: {escape(s.ward_name)}", STYLES["title"]),
        Paragraph(escape(period), STYLES["ref"]),
        Paragraph("Counts of submitted incidents that happened in this period (UK time). No incident text and no "
                  "people are shown. An incident can have more than one type, so type counts may add up to more "
                  "than the total.", STYLES["notice"]),
        _facts([("Incidents", str(s.total)),
                ("Safeguarding actions open", str(s.open_actions)),
                ("Of which overdue", Paragraph(f"<font color='#B00020'><b>{len(s.overdue)}</b></font>"
                                               if s.overdue else "0", STYLES["cell"])),
                ("Harm grading to confirm", str(s.harm_to_confirm)),
                ("Restricted records", f"{s.restricted} (a member of staff is the alleged perpetrator)")]),
        Paragraph("Incidents by month", STYLES["h2"]),
        _month_chart(s.by_month),
        *_count_table("Type", s.by_type, s.total, heading="By type of incident"),
        *_count_table("Alleged perpetrator on affected person", s.by_pair, s.total, heading="Who to whom"),
        *_count_table("NRLS degree of harm (worst for the incident)", s.by_pd09, s.total, heading="Harm"),
        Spacer(1, 4),
        *_count_table("Physical harm", s.by_physical, s.total),
        Spacer(1, 4),
        *_count_table("Psychological harm", s.by_psychological, s.total),
        Paragraph("Overdue safeguarding actions", STYLES["h2"]),
    ]
    rows = [[_p(h, "cellb") for h in ("Incident", "Action", "Owner", "Was due")]]
    for a in s.overdue[:MAX_OVERDUE_ROWS]:
        rows.append([_p(a.reference), _p(a.title), _p(a.owner), _p(_when(a.due_at))])
    if len(rows) == 1:
        rows.append([_p("None"), _p(""), _p(""), _p("")])
    story.append(_table(rows, [30 * mm, width - 100 * mm, 40 * mm, 30 * mm]))
    if len(s.overdue) > MAX_OVERDUE_ROWS:
        story.append(_p(f"The {MAX_OVERDUE_ROWS} longest overdue are shown; {len(s.overdue) - MAX_OVERDUE_ROWS} "
                        "more are overdue. See the action list in Lantern for all of them.", "small"))
    return _build(story, title=f"Ward report {s.ward_name}", generated_at=generated_at)
