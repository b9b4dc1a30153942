"""Incident review (ui layer): find an incident, read the whole record, its actions, versions and history;
edit with a reason, confirm the harm grading, leave feedback for the reporter, close and reopen.

Every opening of a record is audited by core (`incidents.get_incident`). The safeguarding lead also sees who
opened each restricted record and when.
"""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from core.dto import Changes
from core.security.permissions import allowed
from core.services import incidents, review
from core.services.review import IncidentQuery
from core.taxonomy import load_taxonomy
from ui import style
from ui.context import AppContext
from ui.dialogs import actions
from ui.dialogs import incident as incident_flows
from ui.dialogs.incident import ViewLogDialog
from ui.models.base import ROW_ROLE
from ui.models.manager import STATUS_LABELS, ActionListModel, HistoryModel, IncidentListModel, VersionModel
from ui.widgets.a11y import LiveLabel, announce, reflow_layout
from ui.widgets.record import record_html, version_text
from ui.widgets.tables import table_view

STATUS_CHOICES = (("Open (submitted or in review)", "open"), ("All", None), ("Submitted", "submitted"),
                  ("In review", "in_review"), ("Closed", "closed"))
HARM_BANNER = ("<b>Check the harm grading.</b> This is an assault, or penetration is alleged, but everyone affected "
               "is graded no or low harm. CQC found harm is often under-recognised. Confirm or change the grading "
               "(Confirm harm…) before closing.")


class ReviewPage(QWidget):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.tax = load_taxonomy()
        self.detail = None
        outer = reflow_layout(self)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter)
        splitter.addWidget(self._build_finder())
        splitter.addWidget(self._build_incident())
        splitter.setSizes([880, 620])  # the list gets the room its columns need at 1366 wide
        self._set_buttons()

        for combo in (self.ward, self.status):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        for box in (self.harm_only, self.restricted_only):
            box.toggled.connect(lambda _on: self.refresh())
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)
        ctx.changed.connect(self._on_changed)
        ctx.load_ward_choices(self.ward)
        self.refresh()

    # ----- building ------------------------------------------------------------
    def _build_finder(self) -> QWidget:
        """The left side: filters and the list of incidents."""
        ctx = self.ctx
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<h2>Review incidents</h2>"))
        row = QHBoxLayout()
        self.ward = QComboBox()
        self.ward.addItem("All your wards", None)
        self.ward.setAccessibleName("Ward")
        self.status = QComboBox()
        self.status.setAccessibleName("Status")
        for text, code in STATUS_CHOICES:
            self.status.addItem(text, code)
        for label, combo in (("&Ward:", self.ward), ("Stat&us:", self.status)):
            caption = QLabel(label)
            caption.setBuddy(combo)
            row.addWidget(caption)
            row.addWidget(combo)
        lv.addLayout(row)
        row = QHBoxLayout()
        self.harm_only = QCheckBox("Needs a harm check")
        self.restricted_only = QCheckBox("Restricted only")
        self.restricted_only.setVisible(allowed(ctx.actor, "incident.view_restricted"))
        row.addWidget(self.harm_only)
        row.addWidget(self.restricted_only)
        row.addStretch(1)
        if allowed(ctx.actor, "audit.view") and allowed(ctx.actor, "incident.view_restricted"):
            self.view_log_button = QPushButton("Who opened restricted records…")
            self.view_log_button.clicked.connect(self.show_view_log)
            row.addWidget(self.view_log_button)
        lv.addLayout(row)
        self.list_model = IncidentListModel(parent=self)
        self.list = table_view(self.list_model, "Incidents")
        self.list.setSortingEnabled(True)
        self.list.horizontalHeader().setSortIndicator(IncidentListModel.COL_WHEN, Qt.SortOrder.DescendingOrder)
        header = self.list.horizontalHeader()
        for column in (IncidentListModel.COL_REFERENCE, IncidentListModel.COL_WHEN, IncidentListModel.COL_WARD,
                       IncidentListModel.COL_STATUS, IncidentListModel.COL_ACTIONS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(IncidentListModel.COL_TYPES, QHeaderView.ResizeMode.Stretch)
        self.list.setColumnHidden(IncidentListModel.COL_HARM, True)  # the record on the right shows it in full
        self.list.activated.connect(self._on_list_activated)
        lv.addWidget(self.list, 1)
        return left

    def _build_incident(self) -> QWidget:
        """The right side: one incident, its buttons and its tabs."""
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.title = LiveLabel("Incident", "Choose an incident on the left (Enter or double-click opens it).")
        self.title.setWordWrap(True)
        rv.addWidget(self.title)
        self.harm_banner = QLabel(HARM_BANNER)
        self.harm_banner.setObjectName("hint")
        self.harm_banner.setWordWrap(True)
        self.harm_banner.setAccessibleDescription("Harm grading warning")
        self.harm_banner.hide()
        rv.addWidget(self.harm_banner)
        buttons = QHBoxLayout()
        self.start_button = self._button("&Start review", self.start_review, buttons)
        self.edit_button = self._button("Ed&it…", self.edit, buttons)
        self.harm_button = self._button("Con&firm harm…", self.confirm_harm, buttons)
        buttons.addStretch(1)
        rv.addLayout(buttons)
        buttons = QHBoxLayout()  # two rows, so the list beside them keeps room for its columns at 1366 wide
        self.feedback_button = self._button("Feedbac&k…", self.feedback, buttons)
        self.close_button = self._button("Close i&ncident", self.close_incident, buttons)
        self.reopen_button = self._button("Reo&pen…", self.reopen, buttons)
        buttons.addStretch(1)
        rv.addLayout(buttons)
        self.tabs = QTabWidget()
        self.record = QTextBrowser()
        self.record.setAccessibleName("The record")
        self.tabs.addTab(self.record, "Re&cord")
        self.tabs.addTab(self._build_actions_tab(), "Ac&tions")
        self.tabs.addTab(self._build_versions_tab(), "Versi&ons")
        self.history_model = HistoryModel(self)
        self.history = table_view(self.history_model, "History")
        self.tabs.addTab(self.history, "Histor&y")
        self.tabs.currentChanged.connect(self._on_tab)
        rv.addWidget(self.tabs, 1)
        return right

    def _build_actions_tab(self) -> QWidget:
        actions = QWidget()
        av = QVBoxLayout(actions)
        self.actions_model = ActionListModel(self)
        self.actions = table_view(self.actions_model, "Actions for this incident")
        action_header = self.actions.horizontalHeader()
        for column, width in ((ActionListModel.COL_DUE, 100), (ActionListModel.COL_OWNER, 90),
                              (ActionListModel.COL_STATUS, 90)):
            action_header.resizeSection(column, width)
        for column in (ActionListModel.COL_ACTION, ActionListModel.COL_NOTE):
            action_header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.actions.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.actions.setWordWrap(True)  # every column on show; long titles and notes wrap instead
        av.addWidget(self.actions)
        arow = QHBoxLayout()
        self._button("Complete…", self.complete_action, arow)
        self._button("Not applicable…", self.action_not_applicable, arow)
        self.reopen_action_button = self._button("Reopen action…", self.reopen_action, arow)
        self._button("Add action…", self.add_action, arow)
        arow.addStretch(1)
        av.addLayout(arow)
        return actions

    def _build_versions_tab(self) -> QWidget:
        versions = QWidget()
        vv = QVBoxLayout(versions)
        self.versions_model = VersionModel(self)
        self.versions = table_view(self.versions_model, "Earlier versions")
        self.versions.selectionModel().currentRowChanged.connect(lambda current, _old: self._show_version(current))
        self.version_text = QTextBrowser()
        self.version_text.setAccessibleName("The chosen version")
        vv.addWidget(self.versions)
        vv.addWidget(self.version_text)
        return versions

    def _button(self, text: str, slot, row) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # ----- the list ------------------------------------------------------------
    def query(self) -> IncidentQuery:
        return IncidentQuery(ward_id=self.ward.currentData(), status=self.status.currentData(),
                             needs_harm_confirmation=self.harm_only.isChecked(),
                             restricted_only=self.restricted_only.isChecked())

    def refresh(self) -> None:
        base = self.query()

        def fetch(sort, descending, offset, limit, done):
            q = replace(base, sort=sort, descending=descending)
            self.ctx.call(lambda s, a: review.list_incidents(s, a, q, offset=offset, limit=limit), done,
                          on_error=lambda err: self._fetch_failed(err), parent=self)

        self.list_model.set_fetch(fetch)
        self.list_model.fetchMore()

    def _fetch_failed(self, err) -> None:
        if isValid(self):
            self.list_model.fetch_failed()
            self.ctx.read_failed(self, err)  # the server out of reach: said once in the status line

    def _on_list_activated(self, index) -> None:
        row = self.list_model.data(self.list_model.index(index.row(), 0), ROW_ROLE)
        if row is not None:
            self.open_incident(row.incident_id)

    def _on_changed(self, changes) -> None:
        if not isValid(self):
            return
        if changes is None or getattr(changes, "incidents", False) or getattr(changes, "actions", False):
            self.refresh()
            if self.detail is not None:
                self.open_incident(self.detail.incident_id, refreshing=True)

    # ----- one incident ----------------------------------------------------------
    def open_incident(self, incident_id: str, *, refreshing: bool = False) -> None:
        """Read the record (audited by core) and its history. Opened by the person, a server out of reach is said
        in a box, since they are waiting for it; on a refresh, once in the status line (AppContext.read_failed)."""
        self.ctx.call(lambda s, a: incidents.get_incident(s, a, incident_id), self._show, parent=self,
                      read=refreshing)

    def _show(self, detail) -> None:
        if not isValid(self):
            return
        self.detail = detail
        d = detail
        restricted = f" · <b style='color:{style.ERROR}'>RESTRICTED</b>" if d.restricted else ""
        self.title.setText(f"<h3>{html.escape(d.reference)} · {html.escape(d.ward_name)} · "
                           f"{STATUS_LABELS.get(d.status, d.status)}{restricted}</h3>")
        self.harm_banner.setVisible(d.harm_confirmation_needed)
        if d.harm_confirmation_needed:
            announce(self.harm_banner, HARM_BANNER)
        self.record.setHtml(record_html(d, self.tax))
        self.actions_model.set_rows(d.actions)
        self.versions_model.set_rows([])
        self.version_text.clear()
        self._set_buttons()
        incident_id = d.incident_id
        self.ctx.call(lambda s, a: review.incident_history(s, a, incident_id), self._show_history,
                      on_error=lambda _e: None, parent=self)
        if self.tabs.currentIndex() == 2:
            self._load_versions()

    def _show_history(self, rows) -> None:
        if isValid(self):
            self.history_model.set_rows(rows)

    def _on_tab(self, index: int) -> None:
        if index == 2 and self.detail is not None:
            self._load_versions()

    def _load_versions(self) -> None:
        incident_id = self.detail.incident_id

        def show(result):
            if isValid(self):
                self.versions_model.authors = result.authors
                self.versions_model.set_rows(result.versions)
                if not result.versions:
                    self.version_text.setPlainText("No earlier versions: this record has not been changed since "
                                                   "it was submitted.")

        self.ctx.call(lambda s, a: review.incident_versions(s, a, incident_id), show, parent=self, read=True)

    def _show_version(self, index) -> None:
        v = self.versions_model.data(self.versions_model.index(index.row(), 0), ROW_ROLE)
        if v is None:
            return
        self.version_text.setPlainText(version_text(v, self.tax))

    def _set_buttons(self) -> None:
        d = self.detail
        status = d.status if d else None
        self.start_button.setEnabled(status == "submitted")
        for button in (self.edit_button, self.harm_button, self.feedback_button):
            button.setEnabled(status in ("submitted", "in_review"))
        self.feedback_button.setEnabled(status in ("submitted", "in_review", "closed"))
        self.close_button.setEnabled(status in ("submitted", "in_review"))
        self.reopen_button.setEnabled(status == "closed")

    def _done(self, detail=None) -> None:
        self.ctx.changed.emit(Changes(incidents=True, actions=True))

    def _reloaded(self, detail) -> None:
        """A save was refused because someone else changed the incident meanwhile: show their version and the
        list as they are now (the dialog keeps what the person typed)."""
        if isValid(self):
            self._show(detail)
            self.refresh()

    def _run(self, call) -> None:
        self.ctx.call(call, self._done, parent=self)

    # ----- what a manager does ---------------------------------------------------
    def start_review(self) -> None:
        if self.detail:
            incident_id = self.detail.incident_id
            self._run(lambda s, a: incidents.start_review(s, a, incident_id))

    def edit(self) -> None:
        if self.detail:
            incident_flows.edit_incident(self.ctx, self.detail, self, self._done, self._reloaded)

    def confirm_harm(self) -> None:
        if self.detail:
            incident_flows.confirm_harm(self.ctx, self.detail, self, self._done, self._reloaded)

    def feedback(self) -> None:
        if self.detail:
            incident_flows.give_feedback(self.ctx, self.detail, self, self._done, self._reloaded)

    def close_incident(self) -> None:
        if not self.detail:
            return
        d = self.detail
        answer = QMessageBox.question(self, "Close incident", f"Close incident {d.reference}? You can reopen it "
                                      "later with a reason.")
        if answer == QMessageBox.StandardButton.Yes:
            incident_id = d.incident_id
            self._run(lambda s, a: incidents.close_incident(s, a, incident_id))

    def reopen(self) -> None:
        if self.detail:
            incident_flows.reopen_incident(self.ctx, self.detail, self, self._done)

    def _selected_action(self):
        index = self.actions.currentIndex()
        return self.actions_model.data(self.actions_model.index(index.row(), 0), ROW_ROLE) if index.isValid() \
            else None

    def complete_action(self) -> None:
        a = self._selected_action()
        if a is not None and a.status == "open":
            actions.complete_action(self.ctx, a, self, self._done)

    def action_not_applicable(self) -> None:
        a = self._selected_action()
        if a is not None and a.status == "open":
            actions.mark_not_applicable(self.ctx, a, self, self._done)

    def reopen_action(self) -> None:
        a = self._selected_action()
        if a is not None and a.status != "open":
            actions.reopen_action(self.ctx, a, self, self._done)

    def add_action(self) -> None:
        if self.detail:
            actions.add_action(self.ctx, self.detail.reference, self.detail.incident_id, self, self._done)

    def show_view_log(self) -> None:
        def show(rows):
            if isValid(self):
                self.view_log = ViewLogDialog(rows, self)
                self.view_log.open()

        self.ctx.call(lambda s, a: review.restricted_view_log(s, a, limit=1000), show, parent=self)


def show_incident(widget: QWidget, incident_id: str) -> None:
    """Switch the main window to the Review tab and open one incident there (if this user has that tab)."""
    window = widget.window()
    page = window.page(ReviewPage) if hasattr(window, "page") else None
    if page is None:
        return
    window.tabs.setCurrentWidget(page)
    page.open_incident(incident_id)
