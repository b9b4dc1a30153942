"""Table models for the action queue, the incident list, the dashboard tables and the review tabs (ui layer)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from core.clock import local, utcnow
from core.security.permissions import ROLE_LABELS
from core.taxonomy import load_taxonomy
from ui import style
from ui.models.base import PagedModel, RowsModel

GROUP_LABELS = {"overdue": "OVERDUE", "today": "Due today", "later": "Later", "now": "Due now", "done": "Finished"}
STATUS_LABELS = {"draft": "Draft", "submitted": "Submitted", "in_review": "In review", "closed": "Closed"}
ACTION_STATUS = {"open": "Open", "done": "Done", "not_applicable": "Not applicable"}
OVERDUE_BG = QBrush(QColor(style.OVERDUE_ROW))
TODAY_BG = QBrush(QColor(style.TODAY_ROW))
BOLD = QFont()
BOLD.setBold(True)


def when(moment) -> str:
    return f"{local(moment):%a %d %b %Y %H:%M}" if moment else "Not given"


def relative(due, group: str, now=None) -> str:
    """'Overdue by 3 days', 'Due today', 'In 5 days': how urgent, in words (the colour is only a hint)."""
    days = ((now or utcnow()) - due).total_seconds() / 86400
    if group == "overdue":
        return "OVERDUE by " + (f"{int(days)} days" if days >= 2 else _count(max(1, int(days * 24)), "hour"))
    if group == "today":
        return "Due today"
    return "In " + _count(max(1, round(-days)), "day")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def harm_text(tax, physical, psychological) -> str:
    if not physical and not psychological:
        return "Not graded"
    return (f"Physical: {tax.label('harm_physical', physical) if physical else 'not graded'}; "
            f"psychological: {tax.label('harm_psychological', psychological) if psychological else 'not graded'}")


class QueueModel(PagedModel):
    """Rows are core.services.queue.QueueRow values, paged from `queue.list_queue`."""

    COL_DUE, COL_GROUP, COL_ACTION, COL_INCIDENT, COL_WARD, COL_TYPE, COL_OWNER = range(7)
    HEADERS = ("Due", "How urgent", "Action", "Incident", "Ward", "Type", "Owner")
    SORT_KEYS = {COL_DUE: "due", COL_GROUP: "due", COL_ACTION: "due", COL_INCIDENT: "incident", COL_WARD: "ward",
                 COL_TYPE: "type", COL_OWNER: "owner"}
    DEFAULT_SORT = ("due", False)

    def __init__(self, fetch=None, parent=None, page_size: int = 200):
        super().__init__(fetch, parent, page_size)
        self.tax = load_taxonomy()

    def text(self, r, column: int) -> str:
        if column == self.COL_DUE:
            return when(r.due_at)
        if column == self.COL_GROUP:
            return relative(r.due_at, r.group)
        if column == self.COL_ACTION:
            return r.title + ("" if r.mandatory else " (optional)")
        if column == self.COL_INCIDENT:
            return r.incident_reference + (" (restricted)" if r.restricted else "")
        if column == self.COL_WARD:
            return r.ward_name
        if column == self.COL_TYPE:
            return ", ".join(self.tax.type_label(t) for t in r.types)
        return r.owner

    def sort_value(self, r, column: int):
        return {self.COL_DUE: r.due_at.isoformat(), self.COL_GROUP: r.due_at.isoformat(),
                self.COL_INCIDENT: r.incident_reference}.get(column, self.text(r, column))

    def decorate(self, r, column: int, role):
        if role == Qt.ItemDataRole.BackgroundRole:
            return OVERDUE_BG if r.group == "overdue" else TODAY_BG if r.group == "today" else None
        if role == Qt.ItemDataRole.FontRole and r.group == "overdue" and column in (self.COL_DUE, self.COL_GROUP):
            return BOLD
        return None


class IncidentListModel(PagedModel):
    """Rows are core.services.review.IncidentRow values, paged from `review.list_incidents`."""

    COL_REFERENCE, COL_WHEN, COL_WARD, COL_STATUS, COL_TYPES, COL_HARM, COL_ACTIONS, COL_ATTENTION = range(8)
    HEADERS = ("Reference", "When it happened", "Ward", "Status", "Type", "Harm", "Open actions", "Needs")
    SORT_KEYS = {COL_REFERENCE: "reference", COL_WHEN: "occurred", COL_WARD: "ward", COL_STATUS: "status"}
    DEFAULT_SORT = ("occurred", True)

    def __init__(self, fetch=None, parent=None, page_size: int = 200):
        super().__init__(fetch, parent, page_size)
        self.tax = load_taxonomy()

    def text(self, r, column: int) -> str:
        if column == self.COL_REFERENCE:
            return r.reference
        if column == self.COL_WHEN:
            return when(r.occurred_at)
        if column == self.COL_WARD:
            return r.ward_name
        if column == self.COL_STATUS:
            return STATUS_LABELS.get(r.status, r.status)
        if column == self.COL_TYPES:
            return ", ".join(self.tax.type_label(t) for t in r.types)
        if column == self.COL_HARM:
            return harm_text(self.tax, r.harm_physical, r.harm_psychological)
        if column == self.COL_ACTIONS:
            if not r.open_actions:
                return "None open"
            return f"{r.open_actions} ({r.overdue_actions} overdue)" if r.overdue_actions else str(r.open_actions)
        needs = []
        if r.harm_confirmation_needed:
            needs.append("Harm check")
        if r.restricted:
            needs.append("Restricted")
        return ", ".join(needs)

    def sort_value(self, r, column: int):
        if column == self.COL_WHEN:
            return r.occurred_at.isoformat() if r.occurred_at else ""
        if column == self.COL_ACTIONS:
            return r.open_actions
        return self.text(r, column)

    def decorate(self, r, column: int, role):
        if role == Qt.ItemDataRole.BackgroundRole and r.overdue_actions and column == self.COL_ACTIONS:
            return OVERDUE_BG
        if role == Qt.ItemDataRole.BackgroundRole and r.harm_confirmation_needed and column == self.COL_ATTENTION:
            return TODAY_BG
        return None


class BucketModel(RowsModel):
    """One dashboard breakdown: rows are core.services.reports.Bucket values (what a chart draws)."""

    COL_LABEL, COL_COUNT, COL_SHARE = range(3)
    HEADERS = ("", "Incidents", "Share")

    def __init__(self, heading: str = "", parent=None):
        super().__init__(parent)
        self.HEADERS = (heading, "Incidents", "Share")
        self.total = 0

    def set_rows(self, rows, total: int | None = None) -> None:
        rows = list(rows)
        self.total = total if total is not None else sum(b.count for b in rows)
        super().set_rows(rows)

    def text(self, b, column: int) -> str:
        if column == self.COL_LABEL:
            return b.label
        if column == self.COL_COUNT:
            return f"{b.count:,}"
        return f"{b.count / self.total:.0%}" if self.total else "–"

    def sort_value(self, b, column: int):
        return b.label if column == self.COL_LABEL else b.count


class RepeatPeopleModel(RowsModel):
    """Rows are core.services.reports.RepeatPerson values."""

    COL_REF, COL_ROLE, COL_TYPE, COL_INCIDENTS = range(4)
    HEADERS = ("Reference", "Role", "Who", "Incidents")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tax = load_taxonomy()

    def text(self, p, column: int) -> str:
        if column == self.COL_REF:
            return p.local_ref
        if column == self.COL_ROLE:
            return self.tax.label("person_roles", p.role)
        if column == self.COL_TYPE:
            return self.tax.label("person_types", p.person_type)
        return str(p.incidents)

    def sort_value(self, p, column: int):
        return p.incidents if column == self.COL_INCIDENTS else self.text(p, column)


class ActionListModel(RowsModel):
    """An incident's actions: rows are core.dto.ActionInfo values."""

    COL_DUE, COL_ACTION, COL_OWNER, COL_STATUS, COL_NOTE = range(5)
    HEADERS = ("Due", "Action", "Owner", "Status", "Note and reference")

    def text(self, a, column: int) -> str:
        if column == self.COL_DUE:
            return when(a.due_at)
        if column == self.COL_ACTION:
            return a.title + ("" if a.mandatory else " (optional)")
        if column == self.COL_OWNER:
            return a.owner_label or ROLE_LABELS.get(a.owner_role, a.owner_role)
        if column == self.COL_STATUS:
            status = ACTION_STATUS.get(a.status, a.status)
            return f"{status}, {GROUP_LABELS.get(a.group, '')}".rstrip(", ") if a.status == "open" else status
        return " · ".join(x for x in (a.note, f"Ref: {a.reference}" if a.reference else "") if x)

    def sort_value(self, a, column: int):
        return a.due_at.isoformat() if column == self.COL_DUE else self.text(a, column)


class VersionModel(RowsModel):
    """Earlier versions of an incident: rows are core.dto.VersionInfo values; `authors` maps id -> username."""

    COL_VERSION, COL_WHEN, COL_BY, COL_REASON = range(4)
    HEADERS = ("Version", "Saved", "By", "Reason for the change")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.authors: dict[str, str] = {}

    def text(self, v, column: int) -> str:
        if column == self.COL_VERSION:
            return str(v.version)
        if column == self.COL_WHEN:
            return when(v.created_at)
        if column == self.COL_BY:
            return self.authors.get(v.created_by, "")
        return v.reason

    def sort_value(self, v, column: int):
        return v.version if column == self.COL_VERSION else self.text(v, column)


class HistoryModel(RowsModel):
    """An incident's history: rows are core.services.review.HistoryRow values."""

    COL_WHEN, COL_WHO, COL_WHAT, COL_DETAIL = range(4)
    HEADERS = ("When", "Who", "What happened", "Detail")

    def text(self, h, column: int) -> str:
        return (when(h.at), h.username, h.label, h.detail)[column]

    def sort_value(self, h, column: int):
        return h.at.isoformat() if column == self.COL_WHEN else self.text(h, column)


class ViewLogModel(RowsModel):
    """Who opened restricted records: rows are core.services.review.ViewLogRow values."""

    COL_WHEN, COL_WHO, COL_INCIDENT, COL_WARD, COL_WHAT, COL_WORKSTATION = range(6)
    HEADERS = ("When", "Who", "Incident", "Ward", "What they opened", "Computer")

    def text(self, r, column: int) -> str:
        what = {"incident.view_versions": "Earlier versions",
                "access.refused": "Refused: tried to open it"}.get(r.event, "The record")
        return (when(r.at), r.username, r.incident_reference, r.ward_name, what, r.workstation)[column]

    def sort_value(self, r, column: int):
        return r.at.isoformat() if column == self.COL_WHEN else self.text(r, column)


__all__ = ["ActionListModel", "BucketModel", "HistoryModel", "IncidentListModel", "QueueModel",
           "RepeatPeopleModel", "VersionModel", "ViewLogModel"]
