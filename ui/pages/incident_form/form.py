"""The guided incident form (ui layer): one topic per page, progress, autosave, submit and the prompts.

The form builds an IncidentDraft from its pages, shows core's validation messages next to the fields,
autosaves the form every 10 seconds and at lock (core.services.drafts), and at submit creates the
incident, runs core's submit and shows the safeguarding prompts.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QStackedWidget, QTabWidget, QWidget
from shiboken6 import isValid

from core.clock import local, utcnow
from core.dto import Changes, FormState, IncidentDraft
from core.errors import ServerUnreachable, ValidationError
from core.services import accounts, drafts, incidents, outbox
from ui.context import AppContext
from ui.errors import message_for
from ui.pages.incident_form.harm import HarmStep
from ui.pages.incident_form.people import PeopleStep
from ui.pages.incident_form.prompts import KeptReport, PromptsDialog
from ui.pages.incident_form.steps import DescriptionStep, TypesStep, WhenWhereStep, set_error
from ui.pages.incident_form.summary import SummaryStep
from ui.widgets.a11y import LiveLabel, announce, reflow_layout

AUTOSAVE_MS = 10_000
KEPT_ON_THIS_PC = ("The server cannot be reached. Your report is kept on this PC and will be sent when the server "
                   "answers.")
KEPT = "kept"  # what the database lane returns when the server could not be reached and the outbox has it


class IncidentFormPage(QWidget):
    submitted = Signal(object)  # core.dto.IncidentDetail

    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setAccessibleName("Report an incident")
        self.incident_id: str | None = None
        self.send_id: str | None = None  # made before a report's first Send: a retry never sends it twice
        self.dirty = False
        self.visited: set[int] = set()
        self.submit_attempted = False
        self.prompts: PromptsDialog | None = None
        self.default_ward = ctx.actor.ward_ids[0] if ctx.actor.ward_ids else None
        self.ward_names: dict[int, str] = {}
        self.ward_services: dict[int, str] = {}
        self.types, self.when, self.people = TypesStep(), WhenWhereStep(), PeopleStep()
        self.harm, self.description, self.summary = HarmStep(), DescriptionStep(), SummaryStep()
        self.steps = [self.types, self.when, self.people, self.harm, self.description, self.summary]

        layout = reflow_layout(self)
        self._build_progress(layout)
        self._build_steps(layout)
        self._build_footer(layout)
        self._wire_keys_and_autosave()
        QTimer.singleShot(0, self._attach_to_window)
        self.go(0, focus=False)
        ctx.call(lambda store, actor: accounts.list_wards(store, actor), self._alive(self._wards_loaded), parent=self,
                 read=True)
        ctx.call(self._load_saved, self._alive(self._restore), parent=self)
        ctx.outbox_opened.connect(self._kept_form_back)  # kept reports opened with her previous password
        self._staff_ward: int | None = None
        self.when.ward.currentIndexChanged.connect(lambda *_: self._load_staff())
        self._load_staff()

    # ----- building ---------------------------------------------------------------
    def _build_progress(self, layout) -> None:
        """The progress line and the trail of steps (a mouse moves by it; the keyboard by Alt+N / Alt+B)."""
        self.progress = LiveLabel("Progress")
        self.progress.setObjectName("progress")
        font = self.progress.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.progress.setFont(font)
        layout.addWidget(self.progress)
        trail = QHBoxLayout()
        trail.setSpacing(14)
        self.step_buttons: list[QPushButton] = []
        for index, step in enumerate(self.steps):
            button = QPushButton()
            button.setFlat(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keyboard users move with Alt+N / Alt+B
            button.setAccessibleName(f"Go to step {index + 1}: {step.title}")
            button.clicked.connect(lambda _c=False, i=index: self.go(i))
            trail.addWidget(button)
            self.step_buttons.append(button)
        trail.addStretch(1)
        layout.addLayout(trail)

    def _build_steps(self, layout) -> None:
        """The notice banner and the steps, one on show at a time."""
        self.banner = LiveLabel("Notice")
        self.banner.setObjectName("hint")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        for step in self.steps:
            self.stack.addWidget(step)
            step.changed.connect(self.on_step_changed)
        layout.addWidget(self.stack, 1)

    def _build_footer(self, layout) -> None:
        """Throw away, the saved state, Back and Next."""
        footer = QHBoxLayout()
        self.discard = QPushButton("Throw away this report…")
        self.discard.clicked.connect(self.on_discard_clicked)
        self.saved = LiveLabel("Saved state")
        self.back = QPushButton("← &Back")
        self.back.setAccessibleName("Back (Alt+B or Page Up)")
        self.back.clicked.connect(lambda: self.go(self.stack.currentIndex() - 1))
        self.next = QPushButton("&Next →")
        self.next.setAccessibleName("Next (Alt+N or Page Down)")
        self.next.clicked.connect(lambda: self.go(self.stack.currentIndex() + 1))
        footer.addWidget(self.discard)
        footer.addWidget(self.saved, 1)
        footer.addWidget(self.back)
        footer.addWidget(self.next)
        layout.addLayout(footer)

    def _wire_keys_and_autosave(self) -> None:
        """Send and go-to from the summary, Page Up / Down, Ctrl+Enter, the autosave (timer and lock), Ctrl+N."""
        self.summary.submit_requested.connect(self.submit)
        self.summary.go_to.connect(self.go_to_field)
        for keys, slot in (((Qt.Key.Key_PageDown,), lambda: self.go(self.stack.currentIndex() + 1)),
                           ((Qt.Key.Key_PageUp,), lambda: self.go(self.stack.currentIndex() - 1)),
                           (("Ctrl+Return", "Ctrl+Enter"), self.on_ctrl_enter)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)
        self.autosave = QTimer(self)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_now)
        self.autosave.start()
        self.ctx.locked.connect(self.save_now)
        self.new_report_action = QAction("New incident report", self)
        self.new_report_action.setShortcut(QKeySequence("Ctrl+N"))
        self.new_report_action.triggered.connect(self.start_new)

    # ----- wiring ----------------------------------------------------------------
    def _alive(self, fn):
        """Results from the database lane can arrive after a lock has deleted this page: drop them then."""
        return lambda value: fn(value) if isValid(self) else None

    def _attach_to_window(self) -> None:
        if isValid(self) and self.window() is not self:
            self.window().addAction(self.new_report_action)

    def _wards_loaded(self, wards) -> None:
        mine = [w for w in wards if w.active and (not self.ctx.actor.ward_ids or w.ward_id in self.ctx.actor.ward_ids)]
        self.ward_names = {w.ward_id: w.name for w in wards}
        self.ward_services = {w.ward_id: w.service_type for w in wards}
        if self.default_ward is None and mine:
            self.default_ward = mine[0].ward_id
        self.when.set_wards(mine, self.when.ward_id() or self.default_ward)
        self._load_staff()

    def _load_staff(self) -> None:
        """Ask core which accounts may be linked to a staff member named in a report on the chosen ward."""
        ward_id = self.when.ward_id() or self.default_ward
        if ward_id is None or ward_id == self._staff_ward:
            return
        self._staff_ward = ward_id
        self.ctx.call(lambda store, actor: accounts.linkable_staff(store, actor, ward_id),
                      self._alive(self.people.set_staff_choices),
                      self._alive(lambda _err: self.people.set_staff_choices([])))

    # ----- the draft ---------------------------------------------------------------
    def current_draft(self) -> IncidentDraft:
        people = []
        for editor, person in self.people.entries():
            if person is not None:
                people.append(replace(person, **dict(zip(("harm_physical", "harm_psychological"),
                                                         self.harm.grades(editor.key), strict=True)))
                              if person.role == "affected" else person)
        values = {**self.types.values(), **self.when.values(), **self.description.values()}
        return IncidentDraft(ward_id=self.when.ward_id() or self.default_ward, people=tuple(people), **values)

    def problems(self, draft: IncidentDraft | None = None) -> dict[str, str]:
        errors = incidents.validate_draft(draft or self.current_draft(), for_submit=True)
        if self.when.time_problem:
            errors["occurred_at"] = "Type the time as hours and minutes, for example 21:40."
        return errors

    def has_content(self) -> bool:
        draft = self.current_draft()
        return bool(draft.types or draft.flags or self.when.time.text().strip() or draft.location
                    or draft.description.strip() or draft.immediate_actions.strip()
                    or any(p.local_ref or p.person_type for p in draft.people))

    def load(self, state: FormState) -> None:
        """Show a saved form: its draft, at the step the person was on."""
        draft = state.draft
        self.types.load(draft)
        self.when.load(draft, state.time_text)
        self.people.load(draft.people)
        self._load_staff()
        for editor, person in zip(self.people.editors, draft.people, strict=False):
            self.harm.set_grades(editor.key, person.harm_physical, person.harm_psychological)
        self.description.load(draft)
        step = min(state.step, len(self.steps) - 1)
        self.visited = set(range(step))
        self.go(step)

    # ----- navigation -----------------------------------------------------------------
    def go(self, index: int, focus: bool = True) -> None:
        if not 0 <= index < len(self.steps):
            return
        current = self.stack.currentIndex()
        if index != current:
            self.visited.add(current)
        if index == self.steps.index(self.harm):
            self.harm.sync(self.people.entries())
        self.stack.setCurrentIndex(index)
        self.refresh()
        if focus:
            self.steps[index].focus_first()
            self.announce_step()

    def announce_step(self) -> None:
        """Say which step this is and what is still wrong on it: its messages were written while it was hidden."""
        step = self.stack.currentWidget()
        problems = [label.text() for label in step.findChildren(QLabel, "error")
                    if label.isVisibleTo(step) and label.text()]
        announce(self.progress, " ".join([self.progress.text() + ".", *problems]))

    def go_to_field(self, key: str) -> None:
        for index, step in enumerate(self.steps):
            if step.owns(key):
                self.go(index)
                step.focus_field(key)
                return

    def on_ctrl_enter(self) -> None:
        if self.stack.currentWidget() is self.summary:
            self.submit()
        else:
            self.go(len(self.steps) - 1)

    def start_new(self) -> None:
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QTabWidget):
            parent = parent.parentWidget()
        if parent is not None:
            parent.setCurrentWidget(self)
        if self.has_content():
            self.show_banner("You already have a report open. Send it, or throw it away, before starting another.")
            self.steps[self.stack.currentIndex()].focus_first()
        else:
            self.go(0)

    def show_banner(self, text: str) -> None:
        if text:
            self.banner.show()
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def on_step_changed(self) -> None:
        self.dirty = True
        self.saved.setText("")
        self.refresh()

    def refresh(self) -> None:
        draft = self.current_draft()
        errors = self.problems(draft)
        index = self.stack.currentIndex()
        for n, step in enumerate(self.steps):
            if n in self.visited or self.submit_attempted:
                step.show_errors({k: v for k, v in errors.items() if step.owns(k)})
            done = n in self.visited and n != index and not any(step.owns(k) for k in errors)
            button = self.step_buttons[n]
            font = QFont(button.font())
            font.setBold(n == index)
            font.setUnderline(n == index)
            button.setFont(font)
            # The current step is marked by an arrow and bold text, a finished one by a tick: never colour alone.
            button.setText(f"{'► ' if n == index else ''}{n + 1}. {step.title}{' ✓' if done and n < 5 else ''}")
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 16)
        self.progress.set_quietly(f"Step {index + 1} of {len(self.steps)}: {self.steps[index].title}")
        self.back.setEnabled(index > 0)
        self.next.setEnabled(index < len(self.steps) - 1)
        if self.stack.currentWidget() is self.summary:
            self.summary.show_summary(draft, errors, self.ward_names.get(draft.ward_id, ""))

    # ----- autosave --------------------------------------------------------------------
    def save_now(self) -> None:
        if not self.dirty or not self.ctx.session.is_open:
            return
        form = FormState(self.current_draft(), self.stack.currentIndex(), self.when.time.text())
        incident_id, kept = self.incident_id, self._outbox()
        self.dirty = False

        def save(store, actor):
            try:
                saved = drafts.save_form(store, actor, form, incident_id)
            except ServerUnreachable:
                if kept is None:
                    raise
                outbox.keep_form(kept, form, incident_id)  # on this PC until the server answers (issue 16 item 5)
                return KEPT
            if kept is not None:
                outbox.forget_form(kept)
            return saved

        self.ctx.call(save, self._alive(self._saved), self._alive(self._save_failed))

    def _outbox(self):
        """Where a report waits on this PC while the trust's server cannot be reached (None on a store folder)."""
        return self.ctx.session.outbox if self.ctx.session.on_server else None

    def _load_saved(self, store, actor):
        """The form kept on this PC while the server was out of reach is newer than the server's: it comes first."""
        kept = self._outbox()
        form = outbox.kept_form_and_draft(kept) if kept is not None else None
        return form if form is not None else drafts.load_form(store, actor)

    def _kept_form_back(self) -> None:
        """The outbox a reset had locked was opened: an unfinished report kept in it comes back here."""
        kept = self._outbox()
        if kept is not None and isValid(self):
            self.ctx.call(lambda _s, _a: outbox.kept_form_and_draft(kept), self._alive(self._restore), parent=self)

    def _saved(self, saved) -> None:
        if saved == KEPT:
            self.dirty = True  # to the server at the next autosave that reaches it
            self.saved.set_quietly(f"The server cannot be reached: draft kept on this PC at {local(utcnow()):%H:%M}")
            return
        self.saved.set_quietly(f"Draft saved at {local(saved.updated_at):%H:%M}")

    def _save_failed(self, err: BaseException) -> None:
        self.dirty = True
        self.saved.setText(f"Draft not saved yet: {message_for(err)}")

    def _restore(self, saved) -> None:
        if saved is None or self.has_content():
            return
        if isinstance(saved, tuple):  # kept on this PC: it goes to the server at the next autosave
            self.load(saved[0])
            self.incident_id = saved[1]  # her draft already on the server, if it was one
            self.dirty = True
            self.show_banner("Your unfinished report is back, as kept on this PC while the server could not be "
                             "reached. Carry on where you left off.")
            return
        self.load(saved.form)
        self.incident_id = saved.incident_id
        self.dirty = False
        self.show_banner(f"Your unfinished report is back, as last saved at {local(saved.updated_at):%H:%M}. "
                         "Carry on where you left off.")

    # ----- submit -----------------------------------------------------------------------
    def submit(self) -> None:
        draft = self.current_draft()
        errors = self.problems(draft)
        self.submit_attempted = True
        if errors:
            self.go(len(self.steps) - 1)
            self.summary.message.setText("The report cannot be sent yet: complete the items listed above.")
            return
        self.summary.submit.setEnabled(False)
        self.summary.message.setText("Sending…")
        incident_id, kept = self.incident_id, self._outbox()
        if kept is not None and self.send_id is None:
            self.send_id = str(uuid.uuid4())
        send_id = self.send_id

        # One service, one transaction: write, run the rules, clear the autosave. If it fails, nothing was sent
        # and the form still holds every word (it autosaves again). On a server out of reach, the report is kept
        # on this PC under its send id and sent from there once the server answers.
        def send(store, actor):
            detail = outbox.submit_or_keep(kept, store, actor, draft, incident_id, send_id)
            return (KEPT, draft) if detail is None else detail

        self.ctx.call(send, self._alive(self._submitted), self._alive(self._submit_failed))

    def _submit_failed(self, err: BaseException) -> None:
        self.dirty = True  # its autosave may be cleared already: the next autosave writes it again
        self.summary.submit.setEnabled(True)
        if isinstance(err, ValidationError):
            self.submit_attempted = True
            self.refresh()
        self.summary.message.setText(f"Not sent. {message_for(err)}")

    def _submitted(self, detail) -> None:
        if isinstance(detail, tuple) and detail[0] == KEPT:
            self._kept(detail[1])
            self.prompts.open()
            return
        self.reset()
        self.ctx.changed.emit(Changes(incidents=True, actions=True, ids=(detail.incident_id,)))
        self.submitted.emit(detail)
        self.prompts = PromptsDialog(detail, parent=self)
        self.prompts.done_requested.connect(self.complete_action)
        self.prompts.open()

    def _kept(self, draft) -> None:
        """Sent while the server was out of reach: kept on this PC, and said where a screen reader hears it. The
        safeguarding steps still show: the rules run on this PC."""
        service_type = self.ward_services.get(draft.ward_id)
        kept_at = datetime.now(UTC)
        self.prompts = PromptsDialog(KeptReport(kept_at, tuple(incidents.kept_prompts(draft, kept_at, service_type))),
                                     parent=self)
        self.reset()
        self.banner.set_quietly(KEPT_ON_THIS_PC)
        self._bold_banner(True)
        self.banner.show()
        announce(self.banner, KEPT_ON_THIS_PC, urgent=True)
        self.ctx.kept_changed.emit()

    def _bold_banner(self, bold: bool) -> None:
        font = self.banner.font()
        font.setBold(bold)
        self.banner.setFont(font)

    def complete_action(self, action_id: int, note: str) -> None:
        dialog = self.prompts

        def done(action):
            if isValid(dialog):
                dialog.mark_done(action)
            self.ctx.changed.emit(Changes(actions=True, ids=(action.incident_id,)))

        self.ctx.call(lambda store, actor: incidents.complete_action(store, actor, action_id, note),
                      self._alive(done),
                      self._alive(lambda err: isValid(dialog) and dialog.show_problem(action_id, message_for(err))))

    def reset(self) -> None:
        empty = IncidentDraft(ward_id=self.default_ward)
        self.types.load(empty)
        self.when.load(empty)
        self.people.reset()
        self.harm.harm.clear()
        self.description.load(empty)
        self.incident_id = None
        self.send_id = None
        self.visited.clear()
        self.submit_attempted = False
        self.summary.submit.setEnabled(True)
        self.summary.message.setText("")
        self.show_banner("")
        self._bold_banner(False)
        for step in self.steps:  # the last report's problems are not this one's
            for label in step.errors.values():
                set_error(label, None)
        self.go(0, focus=False)
        self.dirty = False
        self.saved.setText("")

    def on_discard_clicked(self) -> None:
        answer = QMessageBox.question(self, "Throw away this report?",
                                      "Throw away this report? What you typed will be deleted and cannot be got back.",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.reset()
            kept = self._outbox()

            def discard(store, actor):
                if kept is not None:
                    outbox.forget_form(kept)
                drafts.discard_form(store, actor)

            self.ctx.call(discard, parent=self)
