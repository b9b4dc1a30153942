"""The safeguarding prompts shown at submit (ui layer): the reference to quote and what must happen next.

The dialog collects input only: ticking an immediate action emits `done_requested(action_id, note)`;
the caller runs the service and calls `mark_done` or `show_problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.clock import local
from core.rules import BASES
from ui import style
from ui.pages.incident_form.wording import GROUPS, due_text, esc, owner_text
from ui.widgets.a11y import LiveLabel, plain

WINDOW_CLOSED = re.compile(r"The window closed at .+?: record what was done\.")


class _ActionRow(QFrame):
    def __init__(self, action, now: datetime, can_tick: bool):
        super().__init__()
        self.action = action
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        self.heading = action_heading(action)
        title = QLabel(f"<b>{esc(self.heading)}</b>")
        title.setWordWrap(True)
        grid.addWidget(title, 0, 0, 1, 2)
        when = "Straight away" if action.deadline_kind == "immediate" else due_text(action.due_at, now)
        closed = window_closed(action.guidance)
        due = QLabel(f"<b>{when}</b>  ·  Who: {esc(owner_text(action.owner_role, action.owner_label))}"
                     + (f"  ·  Deadline: {esc(basis_text(action.basis))}" if action.basis else "")
                     + (f"<br><b>{esc(closed)}</b>" if closed else ""))
        due.setWordWrap(True)
        grid.addWidget(due, 1, 0, 1, 2)
        why = QLabel(f"Why: {esc(action.why)}" if action.why else "")
        why.setWordWrap(True)
        grid.addWidget(why, 2, 0, 1, 2)
        self.source = QLabel(f"Source: {esc(action.source)}" if action.source else "")
        self.source.setObjectName("source")
        self.source.setWordWrap(True)
        self.source.setVisible(bool(action.source))
        grid.addWidget(self.source, 6, 0, 1, 2)
        # The how-to is shown, not left in a tooltip: a keyboard or screen reader user never sees a tooltip.
        how = action.guidance.replace(closed, "").strip() if action.guidance else ""
        self.how = QLabel(f"How: {esc(how)}" if how else "")
        self.how.setObjectName("guidance")
        self.how.setWordWrap(True)
        self.how.setVisible(bool(how))
        grid.addWidget(self.how, 3, 0, 1, 2)
        self.note = self.tick = None
        self.state = LiveLabel(f"Progress: {action.title}")
        self.state.hide()
        if can_tick:
            self.note = QLineEdit()
            self.note.setPlaceholderText("What you did, in a sentence, e.g. 'Separated; AB moved to room 9'")
            self.note.setAccessibleName(f"Note for: {action.title}")
            self.tick = QCheckBox("Done")
            self.tick.setAccessibleName(f"Mark done: {action.title}")
            grid.addWidget(self.note, 4, 0)
            grid.addWidget(self.tick, 4, 1)
        grid.addWidget(self.state, 5, 0, 1, 2)
        self.setAccessibleName(self.heading)
        # Every step takes the keyboard focus (Tab), and is read whole: when, who, why, how and the source.
        self.setObjectName("prompt")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleDescription(" ".join(plain(label.text()) for label in (due, why, self.how, self.source)
                                               if label.text()))


def action_heading(action) -> str:
    """An action's title as the nurse reads it: a "not known" check says it is a check first."""
    return f"Check: {action.title}" if action.check else action.title


def window_closed(guidance: str) -> str:
    """The engine's plain warning that a window had closed before the report (core.rules.engine), if any: shown,
    not left in a tooltip, so a closed window is never mistaken for one still open."""
    match = WINDOW_CLOSED.match(guidance)
    return match.group(0) if match else ""


def basis_text(basis: str) -> str:
    """Where a deadline comes from, in words: "national" or "local policy (a trust may change it)"."""
    return BASES.get(basis, basis)


@dataclass(frozen=True)
class KeptReport:
    """A report kept on this PC while the server is out of reach (issue 16 item 5): no reference yet, and its
    steps worked out here (core.services.incidents.kept_prompts)."""

    submitted_at: datetime
    actions: tuple
    reference: str = ""


KEPT_INTRO = ("<b>The server cannot be reached, so this report is kept on this PC and will be sent when it "
              "answers.</b> These safeguarding steps follow from what you reported: do the ones under Do now "
              "straight away, and tell your ward manager. A step marked <b>Check</b> is there because an answer was "
              "not known: find out, and if the answer is yes, do what it says. The steps are recorded against the "
              "report, with its reference, once it is sent.")


class PromptsDialog(QDialog):
    done_requested = Signal(int, str)

    def __init__(self, detail, now: datetime | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        now = now or detail.submitted_at
        self.detail = detail
        kept = isinstance(detail, KeptReport)
        self.setWindowTitle("Report kept on this PC: what must happen now" if kept
                            else f"Report {detail.reference} sent: what happens next")
        self.resize(760, 720)
        layout = QVBoxLayout(self)
        self._build_header(layout, detail, kept)
        body = QWidget()
        column = QVBoxLayout(body)
        self._build_steps(column, detail, now, can_tick=not kept)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll = scroll
        layout.addWidget(scroll, 1)
        QApplication.instance().focusChanged.connect(self._follow_focus)
        self.message = LiveLabel("Problem", urgent=True)
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("&Finish")
        buttons.rejected.connect(self.accept)
        layout.addWidget(buttons)
        first = next((r.note for r in self.rows.values() if r.note), None)
        (first or buttons.button(QDialogButtonBox.StandardButton.Close)).setFocus()

    def _build_header(self, layout: QVBoxLayout, detail, kept: bool) -> None:
        sent = QLabel(KEPT_INTRO if kept else
                      f"Report sent on {local(detail.submitted_at):%a %d %b at %H:%M}. Quote this reference:")
        sent.setWordWrap(True)
        layout.addWidget(sent)
        self.reference = LiveLabel("Incident reference", "Reference: given when the report is sent" if kept
                                   else detail.reference)
        self.reference.setObjectName("reference")
        if not kept:  # a reference to quote stands out; its absence does not need to
            self.reference.setStyleSheet(style.sheet("prompt-reference"))
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                               | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        layout.addWidget(self.reference)
        if kept:
            return
        intro = QLabel("These safeguarding steps follow from what you reported. Tick the ones you have already "
                       "done; the rest go to the person named, and your ward manager sees them all. A step "
                       "marked <b>Check</b> is there because an answer was not known: find out, and if the "
                       "answer is yes, do what it says. Each deadline is <b>national</b> (law or national "
                       "guidance, named in its source) or <b>local policy</b> (a trust may change it).")
        intro.setWordWrap(True)
        layout.addWidget(intro)

    def _build_steps(self, column: QVBoxLayout, detail, now: datetime, *, can_tick: bool) -> None:
        """The open steps by when they are due; the ones due now can be ticked (not for a report kept here)."""
        self.rows: dict[int, _ActionRow] = {}
        open_actions = [a for a in detail.actions if a.status == "open"]
        for group, heading in GROUPS:
            actions = [a for a in open_actions if a.group == group]
            if not actions:
                continue
            column.addWidget(QLabel(f"<h3>{heading} ({len(actions)})</h3>"))
            for action in actions:
                row = _ActionRow(action, now, can_tick=can_tick and group == "now")
                if row.tick:
                    row.tick.toggled.connect(lambda on, r=row: on and self._tick(r))
                self.rows[action.action_id] = row
                column.addWidget(row)
        if not open_actions:
            column.addWidget(QLabel("No safeguarding steps are needed for this report. Your ward manager will "
                                    "review it."))

    def _follow_focus(self, _old, new) -> None:
        """The step (or its note) that takes the focus is scrolled into view."""
        if new is not None and self.scroll.widget().isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new, 0, 24)

    def _tick(self, row: _ActionRow) -> None:
        row.tick.setEnabled(False)
        row.note.setEnabled(False)
        row.state.show()
        row.state.setText("Saving…")
        self.done_requested.emit(row.action.action_id, row.note.text().strip())

    def mark_done(self, action) -> None:
        row = self.rows[action.action_id]
        row.state.show()
        row.state.setText(f"Done at {local(action.completed_at):%H:%M}. Thank you." if action.completed_at
                          else "Done.")

    def show_problem(self, action_id: int, text: str) -> None:
        row = self.rows[action_id]
        row.tick.blockSignals(True)
        row.tick.setChecked(False)
        row.tick.blockSignals(False)
        row.tick.setEnabled(True)
        row.note.setEnabled(True)
        row.state.setText("")
        self.message.setText(text)
