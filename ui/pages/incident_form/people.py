"""Who was involved (ui layer): the people editor and the people page of the report form."""

from __future__ import annotations

from itertools import count

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.dto import PersonDraft
from core.taxonomy import is_staff, load_taxonomy
from ui.pages.incident_form.questions import NOT_DETAINABLE, POLICE_SHORT, QUESTIONS, YES_NO, AnswerChoice
from ui.pages.incident_form.steps import Step, combo, error_label, heading, set_combo, set_error

REF_HINT = "Initials or hospital number, never a name"
ACCOUNT_LABEL = "Their Lantern account (if they have one)"
ACCOUNT_HINT = "Linking keeps this report hidden from that person's account."
NOT_LINKED = "Not linked / not known"
_keys = count(1)


class PersonEditor(QGroupBox):
    """One person: role, type and reference up front; the facts the rules use under 'More about them'.

    A member of staff named as alleged perpetrator may be linked to their Lantern account, which hides the report
    from that account (core.services.visibility). The link is offered only for that role: it is what the
    restriction is for, and hiding a report from a colleague who was harmed or who saw it is not what a ward
    expects. Changing the role or type away clears the link, so a link never hides in a field nobody can see.
    """

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, role: str, number: int):
        super().__init__()
        tax = load_taxonomy()
        self.key = next(_keys)
        self.loaded_harm: tuple[str | None, str | None] = (None, None)
        layout = QVBoxLayout(self)
        form = self.form = QFormLayout()
        self._build_identity(form, tax, role)
        self._build_account(form)
        self._build_questions(form, tax)
        self.choices: list = []
        self.choices_loaded = False
        layout.addLayout(form)
        self._build_more(layout, tax)
        self.remove = QPushButton("Remove this person")
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove)
        layout.addLayout(row)
        self._connect()
        self.renumber(number)
        self._show_account()
        self._show_questions()

    # ----- building ------------------------------------------------------------------
    def _build_identity(self, form: QFormLayout, tax, role: str) -> None:
        self.role = combo("Role", tax.person_roles)
        set_combo(self.role, role)
        form.addRow("Role", self.role)
        self.person_type = combo("Patient, staff or visitor", tax.person_types, "Choose…")
        form.addRow("Patient, staff or visitor?", self.person_type)
        self.type_error = error_label("this person")
        form.addRow("", self.type_error)
        self.ref = QLineEdit()
        self.ref.setMaxLength(40)
        self.ref.setPlaceholderText(REF_HINT)
        self.ref.setAccessibleName("Reference")
        self.ref.setAccessibleDescription(REF_HINT)
        form.addRow("Reference", self.ref)

    def _build_account(self, form: QFormLayout) -> None:
        self.account = QComboBox()
        self.account.setAccessibleName(ACCOUNT_LABEL)
        self.account.setAccessibleDescription(ACCOUNT_HINT)
        self.account.addItem(NOT_LINKED, None)
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.account_hint = QLabel(ACCOUNT_HINT)
        self.account_hint.setWordWrap(True)
        self.account_hint.setAccessibleDescription("About linking an account")
        self.account_box = account_box = QWidget()
        account_column = QVBoxLayout(account_box)
        account_column.setContentsMargins(0, 0, 0, 0)
        account_column.addWidget(self.account, 0, Qt.AlignmentFlag.AlignLeft)
        account_column.addWidget(self.account_hint)
        # Two lines, so this label is no wider than the others and the fields line up from person to person.
        self.account_caption = QLabel("Their Lantern a&ccount\n(if they have one)")
        self.account_caption.setBuddy(self.account)
        form.addRow(self.account_caption, account_box)

    def _build_questions(self, form: QFormLayout, tax) -> None:
        self.questions: dict[str, AnswerChoice] = {}
        self.question_labels: dict[str, QLabel] = {}
        for key, question, name, why, _roles in QUESTIONS:
            options = YES_NO if key != "police_wishes" else (
                ("Not asked yet", None), *((POLICE_SHORT.get(o.code, o.label), o.code) for o in tax.police_wishes))
            choice = self.questions[key] = AnswerChoice(name, options, why)
            label = self.question_labels[key] = QLabel(question)
            label.setBuddy(choice.buttons[0])
            form.addRow(label, choice)
            choice.changed.connect(self.changed.emit)

    def _build_more(self, layout: QVBoxLayout, tax) -> None:
        """'More about them': exact age and sex, folded away until asked for."""
        self.more = QToolButton()
        self.more.setCheckable(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setArrowType(Qt.ArrowType.RightArrow)
        self.more.setText("More about them (optional: exact age, sex)")
        self.more.setAccessibleName("More about them")
        self.more.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.more.toggled.connect(self._toggle)
        layout.addWidget(self.more)
        self.details = QWidget()
        details = QFormLayout(self.details)
        self.sex = combo("Sex", tax.sexes, "Not known")
        details.addRow("Sex", self.sex)
        self.age = QSpinBox()
        self.age.setRange(-1, 120)
        self.age.setSpecialValueText("Not known")
        self.age.setValue(-1)
        self.age.setAccessibleName("Age in years")
        details.addRow("Age (years)", self.age)
        self.age.valueChanged.connect(self._age_answers_under_18)
        self.details.hide()
        layout.addWidget(self.details)

    def _connect(self) -> None:
        for signal in (self.role.currentIndexChanged, self.person_type.currentIndexChanged, self.ref.textChanged,
                       self.sex.currentIndexChanged, self.age.valueChanged):
            signal.connect(lambda *_: self.changed.emit())
        self.account.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.role.currentIndexChanged.connect(lambda *_: self.renumber(self.number))
        self.role.currentIndexChanged.connect(lambda *_: self._show_account())
        self.person_type.currentIndexChanged.connect(lambda *_: self._show_account())
        self.role.currentIndexChanged.connect(lambda *_: self._show_questions())
        self.person_type.currentIndexChanged.connect(lambda *_: self._show_questions())

    # ----- the safeguarding questions ---------------------------------------------
    def asked(self, key: str) -> bool:
        """Whether this question is asked of this person: only where a rule reads it (the role, and for
        detention a patient or someone whose type is not known)."""
        roles = next(q[4] for q in QUESTIONS if q[0] == key)
        person_type = self.person_type.currentData()
        if key == "detained" and (is_staff(person_type) or person_type in NOT_DETAINABLE):
            return False
        return roles is None or self.role.currentData() in roles

    def _show_questions(self) -> None:
        # A question not asked keeps its answer (an edit never loses one), but no shipped rule reads it.
        for key, choice in self.questions.items():
            self.form.setRowVisible(choice, self.asked(key))

    def _age_answers_under_18(self, years: int) -> None:
        if years >= 0:
            self.questions["under_18"].set_value(years < 18)

    def answer_widgets(self) -> list[QWidget]:
        """The questions' radio buttons in reading order (for the Tab order)."""
        return [button for choice in self.questions.values() for button in choice.buttons]

    # ----- the account link ------------------------------------------------------
    def can_link(self) -> bool:
        return self.role.currentData() == "alleged_perpetrator" and is_staff(self.person_type.currentData())

    def _show_account(self) -> None:
        on = self.can_link()
        self.form.setRowVisible(self.account_box, on)
        if not on and self.account.currentIndex() != 0:
            self.account.setCurrentIndex(0)

    def linked_user_id(self) -> str | None:
        return self.account.currentData() if self.can_link() else None

    def set_staff_choices(self, choices) -> None:
        """Fill the account list (core.dto.StaffChoice values), keeping the current link even if not listed."""
        self.choices, self.choices_loaded = list(choices), True
        self._fill_accounts(self.account.currentData())

    def _fill_accounts(self, linked: str | None) -> None:
        self.account.blockSignals(True)
        self.account.clear()
        self.account.addItem(NOT_LINKED, None)
        for choice in self.choices:
            self.account.addItem(choice.label, choice.user_id)
        if linked is not None and self.account.findData(linked) < 0:
            # Never drop a link silently: it is what keeps the report from that account.
            self.account.addItem("Linked to an account not on this list" if self.choices_loaded
                                 else "Linked to an account", linked)
        set_combo(self.account, linked)
        self.account.blockSignals(False)

    def _toggle(self, on: bool) -> None:
        self.details.setVisible(on)
        self.more.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def renumber(self, number: int) -> None:
        self.number = number
        title = f"Person {number}: {self.role.currentText().lower()}"
        self.setTitle(title)
        self.setAccessibleName(title)
        self.remove.setAccessibleName(f"Remove person {number}")

    def person(self, harm: tuple[str | None, str | None] = (None, None)) -> PersonDraft | None:
        if self.person_type.currentData() is None:
            return None
        role = self.role.currentData()
        return PersonDraft(
            role=role, person_type=self.person_type.currentData(), local_ref=self.ref.text().strip(),
            sex=self.sex.currentData(), age_years=None if self.age.value() < 0 else self.age.value(),
            **{key: choice.value() for key, choice in self.questions.items()},
            harm_physical=harm[0] if role == "affected" else None,
            harm_psychological=harm[1] if role == "affected" else None,
            linked_user_id=self.linked_user_id())

    def load(self, p: PersonDraft) -> None:
        set_combo(self.role, p.role)
        set_combo(self.person_type, p.person_type)
        self.ref.setText(p.local_ref)
        set_combo(self.sex, p.sex)
        self.age.setValue(-1 if p.age_years is None else p.age_years)
        answers = {key: getattr(p, key) for key in self.questions}
        if answers["under_18"] is None and p.age_years is not None:
            answers["under_18"] = p.age_years < 18  # a record from before the question: its age answers it
        for key, choice in self.questions.items():
            choice.set_value(answers[key])
        self._fill_accounts(p.linked_user_id if self.can_link() else None)
        self.loaded_harm = (p.harm_physical, p.harm_psychological)
        if p.sex is not None or p.age_years is not None:
            self.more.setChecked(True)


class PeopleStep(Step):
    title = "Who was involved"

    def __init__(self, show_heading: bool = True):
        super().__init__()
        layout = QVBoxLayout(self)
        self.staff_choices: list = []
        self.staff_choices_loaded = False
        if show_heading:
            layout.addWidget(heading("Who was involved?",
                                     "Say who was affected and who is alleged to have done it. 'Not known' is "
                                     "fine. Add witnesses or others if you like. Answer the yes / no questions "
                                     "you can: 'not known' is safe (someone is asked to confirm it), and each "
                                     "answer makes the list of safeguarding steps shorter and exact."))
        else:
            layout.setContentsMargins(0, 0, 0, 0)
        self.errors["people"] = error_label("the person affected")
        self.errors["people.perpetrator"] = error_label("the alleged perpetrator")
        layout.addWidget(self.errors["people"])
        layout.addWidget(self.errors["people.perpetrator"])
        self.list_widget = QWidget()
        self.column = QVBoxLayout(self.list_widget)
        self.column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.list_widget)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        if not show_heading:
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll = scroll
        layout.addWidget(scroll, 1)
        # Whatever brings the focus to a field (Tab, Alt+letter), the field is scrolled into view.
        QApplication.instance().focusChanged.connect(self._follow_focus)
        # Inside another dialog (review's Edit) Alt+A may be taken, so the mnemonic is only on the form's page.
        self.add = QPushButton("Add another &person" if show_heading else "Add another person")
        self.add.clicked.connect(lambda: self.add_person("witness", focus=True))
        row = QHBoxLayout()
        row.addWidget(self.add)
        row.addStretch(1)
        layout.addLayout(row)
        self.editors: list[PersonEditor] = []
        self.reset()

    def reset(self) -> None:
        for editor in list(self.editors):
            self._remove(editor, emit=False)
        self.add_person("affected")
        self.add_person("alleged_perpetrator")

    def add_person(self, role: str, focus: bool = False) -> PersonEditor:
        editor = PersonEditor(role, len(self.editors) + 1)
        if self.staff_choices_loaded:
            editor.set_staff_choices(self.staff_choices)
        editor.changed.connect(self.changed.emit)
        editor.remove_requested.connect(self._remove)
        self.column.insertWidget(self.column.count() - 1, editor)
        self.editors.append(editor)
        self._fix_tab_order()
        if focus:
            editor.role.setFocus()
            self.scroll.ensureWidgetVisible(editor)
        self.changed.emit()
        return editor

    def _remove(self, editor: PersonEditor, emit: bool = True) -> None:
        index = self.editors.index(editor)
        self.editors.remove(editor)
        editor.setParent(None)
        editor.deleteLater()
        for n, e in enumerate(self.editors, start=1):
            e.renumber(n)
        self._fix_tab_order()
        if emit:
            (self.editors[min(index, len(self.editors) - 1)].role if self.editors else self.add).setFocus()
            self.changed.emit()

    def _follow_focus(self, _old, new) -> None:
        if new is not None and self.list_widget.isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new)

    def set_staff_choices(self, choices) -> None:
        """The accounts that may be linked (core accounts.linkable_staff), for every person now and later."""
        self.staff_choices, self.staff_choices_loaded = list(choices), True
        for editor in self.editors:
            editor.set_staff_choices(self.staff_choices)

    def _fix_tab_order(self) -> None:
        widgets = [w for e in self.editors for w in (e.role, e.person_type, e.ref, e.account, *e.answer_widgets(),
                                                     e.more, e.sex, e.age, e.remove)]
        widgets.append(self.add)
        for first, second in zip(widgets, widgets[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def focus_first(self) -> None:
        (self.editors[0].person_type if self.editors else self.add).setFocus()

    def focus_field(self, key: str) -> None:
        if key.startswith("people.") and key.split(".")[1].isdigit():
            n = int(key.split(".")[1]) - 1
            if n < len(self.editors):
                self.editors[n].person_type.setFocus()
                return
        wanted = "alleged_perpetrator" if key == "people.perpetrator" else "affected"
        editor = next((e for e in self.editors if e.role.currentData() == wanted), None)
        if editor:
            editor.person_type.setFocus()
        else:
            self.add.setFocus()

    def entries(self) -> list[tuple[PersonEditor, PersonDraft | None]]:
        return [(e, e.person()) for e in self.editors]

    def show_errors(self, errors: dict[str, str]) -> None:
        super().show_errors(errors)
        for n, editor in enumerate(self.editors, start=1):
            message = errors.get(f"people.{n}")
            if message is None and editor.person_type.currentData() is None and editor.role.currentData() in (
                    "affected", "alleged_perpetrator"):
                message = "say whether they are a patient, staff member, visitor or not known."
            set_error(editor.type_error, message)

    def load(self, people) -> None:
        for editor in list(self.editors):
            self._remove(editor, emit=False)
        for p in people:
            self.add_person(p.role).load(p)
        if not people:
            self.reset()
