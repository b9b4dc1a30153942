"""The pages of the guided incident form (ui layer): what happened, when and where, description, summary.

Each step shows one topic, fills part of an IncidentDraft and shows core's validation messages next to
its fields. Steps never call services; the form does.
"""

from __future__ import annotations

import re
from datetime import datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.clock import LONDON, local, utcnow
from core.taxonomy import load_taxonomy
from ui.pages.incident_form.wording import esc
from ui.privacy_guard import PrivacyGuard
from ui.widgets.a11y import LiveLabel

TIME_FORMAT_PROBLEM = "Type the time as hours and minutes, for example 21:40."


def error_label(name: str) -> QLabel:
    """A message next to a field. It starts with 'Needed:' so it never relies on colour alone."""
    label = LiveLabel(f"Problem with {name}")
    label.setObjectName("error")
    label.setWordWrap(True)
    label.hide()
    return label


def set_error(label: QLabel, message: str | None) -> None:
    """Show (then announce) or clear a field's message: shown first, so a screen reader hears the new text."""
    if message:
        label.show()
    label.setText(f"Needed: {message}" if message else "")
    label.setVisible(bool(message))


def heading(text: str, intro: str = "") -> QLabel:
    label = QLabel(f"<h2>{esc(text)}</h2>" + (f"<p>{esc(intro)}</p>" if intro else ""))
    label.setWordWrap(True)
    return label


def combo(name: str, options, placeholder: str | None = None) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    if placeholder is not None:
        box.addItem(placeholder, None)
    for option in options:
        box.addItem(option.label, option.code)
    return box


def set_combo(box: QComboBox, value) -> None:
    index = box.findData(value)
    box.setCurrentIndex(max(index, 0))


def parse_time(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\s*(\d{1,2})\s*[:.]?\s*(\d{2})\s*", text)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    return (hours, minutes) if hours < 24 and minutes < 60 else None


class Step(QWidget):
    """One page of the form. `errors` maps the validation keys this page owns to their labels."""

    title = ""
    changed = Signal()

    def __init__(self):
        super().__init__()
        self.errors: dict[str, QLabel] = {}

    def owns(self, key: str) -> bool:
        return key in self.errors or any(key.startswith(k + ".") for k in self.errors)

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, label in self.errors.items():
            set_error(label, errors.get(key))

    def focus_first(self) -> None:
        self.focusNextChild()

    def focus_field(self, key: str) -> None:
        self.focus_first()


class TypesStep(Step):
    title = "What happened"

    def __init__(self):
        super().__init__()
        self.tax = load_taxonomy()
        self.definition_box: QMessageBox | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(heading("What happened?", "Tick every type that fits: arrow keys move, Space ticks. "
                                 "The panel on the right explains the highlighted type (F1 reads it in a box)."))
        row = QHBoxLayout()
        self.types = QListWidget()
        self.types.setAccessibleName("Types of incident")
        for t in self.tax.incident_types:
            item = QListWidgetItem(t.label)
            item.setData(Qt.ItemDataRole.UserRole, t.code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, t.definition)
            self.types.addItem(item)
        self.types.itemChanged.connect(lambda _item: self.changed.emit())
        self.types.currentItemChanged.connect(self._explain)
        row.addWidget(self.types, 3)
        # Not announced on each arrow press: the list's items carry the same definition as their description.
        self.meaning = QLabel("")
        self.meaning.setAccessibleDescription("What the highlighted type means")
        self.meaning.setWordWrap(True)
        self.meaning.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.meaning.setObjectName("meaning")
        self.meaning.setMinimumWidth(320)
        row.addWidget(self.meaning, 2)
        layout.addLayout(row, 1)
        self.errors["types"] = error_label("types of incident")
        layout.addWidget(self.errors["types"])
        box = QGroupBox("Tick any of these that are true (optional)")
        flags = QVBoxLayout(box)
        self.flags: dict[str, QCheckBox] = {}
        for option in self.tax.context_flags:
            check = QCheckBox(option.label)
            check.setAccessibleName(option.label)
            check.toggled.connect(lambda _on: self.changed.emit())
            flags.addWidget(check)
            self.flags[option.code] = check
        layout.addWidget(box)
        self.errors["flags"] = error_label("details")
        layout.addWidget(self.errors["flags"])
        help_key = QShortcut(QKeySequence(Qt.Key.Key_F1), self.types)
        help_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        help_key.activated.connect(self.show_definition)
        self.types.setCurrentRow(0)

    def _explain(self, item, _previous=None) -> None:
        if item is None:
            self.meaning.setText("")
            return
        t = self.tax.incident_type(item.data(Qt.ItemDataRole.UserRole))
        examples = "".join(f"<li>{esc(e)}</li>" for e in t.examples)
        self.meaning.setText(f"<h3>What does this mean?</h3><p><b>{esc(t.label)}</b></p>"
                             f"<p>{esc(t.definition)}</p><p><b>For example</b></p><ul>{examples}</ul>")

    def show_definition(self) -> None:
        item = self.types.currentItem()
        if item is None:
            return
        t = self.tax.incident_type(item.data(Qt.ItemDataRole.UserRole))
        box = QMessageBox(QMessageBox.Icon.Information, t.label,
                          t.definition + "\n\nFor example:\n" + "\n".join(f"• {e}" for e in t.examples),
                          QMessageBox.StandardButton.Ok, self)
        box.setAccessibleName(f"What {t.label} means")
        self.definition_box = box
        box.open()

    def focus_first(self) -> None:
        self.types.setFocus()

    def values(self) -> dict:
        codes = [self.types.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.types.count())
                 if self.types.item(i).checkState() == Qt.CheckState.Checked]
        return {"types": tuple(codes), "flags": tuple(c for c, box in self.flags.items() if box.isChecked())}

    def load(self, draft) -> None:
        for i in range(self.types.count()):
            item = self.types.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in draft.types
                               else Qt.CheckState.Unchecked)
        for code, box in self.flags.items():
            box.setChecked(code in draft.flags)
        self.types.setCurrentRow(0)


class WhenWhereStep(Step):
    title = "When and where"

    def __init__(self):
        super().__init__()
        tax = load_taxonomy()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("When and where did it happen?",
                                 "If you are not sure of the time, give your best guess and tick 'approximate'."))
        form = QFormLayout()
        self.ward = QComboBox()
        self.ward.setAccessibleName("Ward")
        form.addRow("Ward", self.ward)
        date_row = QHBoxLayout()
        self.day = QComboBox()
        self.day.setAccessibleName("Day it happened")
        self.date = QDateEdit(QDate.currentDate())
        self.date.setDisplayFormat("d MMM yyyy")
        self.date.setCalendarPopup(True)
        self.date.setMaximumDate(QDate.currentDate())
        self.date.setAccessibleName("Earlier date it happened")
        self.date.hide()
        self._fill_days()
        self.day.currentIndexChanged.connect(self._day_chosen)
        date_row.addWidget(self.day)
        date_row.addWidget(self.date)
        date_row.addStretch(1)
        form.addRow("Day", date_row)
        time_row = QHBoxLayout()
        self.time = QLineEdit()
        self.time.setPlaceholderText("e.g. 21:40")
        self.time.setMaxLength(5)
        self.time.setMaximumWidth(120)
        self.time.setAccessibleName("Time it happened, hours and minutes")
        time_row.addWidget(self.time)
        self.just_now = QPushButton("Just no&w")
        self.just_now.setAccessibleName("Set the date and time to now")
        self.just_now.clicked.connect(self._now)
        time_row.addWidget(self.just_now)
        time_row.addStretch(1)
        form.addRow("Time (24-hour clock)", time_row)
        self.errors["occurred_at"] = error_label("the time")
        form.addRow("", self.errors["occurred_at"])
        self.approximate = QCheckBox("The time is approximate")
        self.approximate.setAccessibleName("The time is approximate")
        form.addRow("", self.approximate)
        self.shift = combo("Shift", tax.shifts, "Choose the shift…")
        form.addRow("Shift", self.shift)
        self.errors["shift"] = error_label("the shift")
        form.addRow("", self.errors["shift"])
        self.location = combo("Where it happened", tax.locations, "Choose where…")
        form.addRow("Where", self.location)
        self.errors["location"] = error_label("where it happened")
        form.addRow("", self.errors["location"])
        layout.addLayout(form)
        layout.addStretch(1)
        self.time_problem = False
        for signal in (self.day.currentIndexChanged, self.date.dateChanged, self.time.textChanged, self.approximate.toggled,
                       self.shift.currentIndexChanged, self.location.currentIndexChanged, self.ward.currentIndexChanged):
            signal.connect(lambda *_: self.changed.emit())

    def _fill_days(self) -> None:
        """Today, yesterday and the five days before, by name; then 'an earlier date'."""
        today = QDate.currentDate()
        self.day.blockSignals(True)
        self.day.clear()
        for back in range(7):
            day = today.addDays(-back)
            name = {0: "Today", 1: "Yesterday"}.get(back, day.toString("dddd"))
            self.day.addItem(f"{name} ({day.toString('ddd d MMM')})", day)
        self.day.addItem("An earlier date…", None)
        self.day.blockSignals(False)

    def _day_chosen(self, _index: int) -> None:
        earlier = self.day.currentData() is None
        self.date.setVisible(earlier)
        if earlier:
            self.date.setFocus()

    def chosen_date(self) -> QDate:
        return self.day.currentData() or self.date.date()

    def set_date(self, day: QDate) -> None:
        index = self.day.findData(day)
        if index < 0:
            self.date.setDate(day)
            index = self.day.count() - 1
        self.day.setCurrentIndex(index)

    def _now(self) -> None:
        now = local(utcnow())
        self.set_date(QDate(now.year, now.month, now.day))
        self.time.setText(f"{now:%H:%M}")

    def set_wards(self, wards, ward_id: int | None) -> None:
        self.ward.blockSignals(True)
        self.ward.clear()
        for w in wards:
            self.ward.addItem(w.name, w.ward_id)
        set_combo(self.ward, ward_id)
        self.ward.setEnabled(len(wards) > 1)
        self.ward.blockSignals(False)

    def focus_first(self) -> None:
        (self.ward if self.ward.isEnabled() else self.day).setFocus()

    def focus_field(self, key: str) -> None:
        {"shift": self.shift, "location": self.location}.get(key, self.time).setFocus()

    def occurred_at(self) -> datetime | None:
        parsed = parse_time(self.time.text())
        self.time_problem = bool(self.time.text().strip()) and parsed is None
        if parsed is None:
            return None
        d = self.chosen_date()
        return datetime(d.year(), d.month(), d.day(), *parsed, tzinfo=LONDON)

    def values(self) -> dict:
        return {"occurred_at": self.occurred_at(),
                "occurred_precision": "approximate" if self.approximate.isChecked() else "exact",
                "shift": self.shift.currentData(), "location": self.location.currentData()}

    def ward_id(self) -> int | None:
        return self.ward.currentData()

    def show_errors(self, errors: dict[str, str]) -> None:
        if self.time_problem:
            errors = {**errors, "occurred_at": TIME_FORMAT_PROBLEM}
        super().show_errors(errors)

    def load(self, draft, time_text: str = "") -> None:
        if draft.occurred_at:
            when = local(draft.occurred_at)
            self._fill_days()
            self.set_date(QDate(when.year, when.month, when.day))
            self.time.setText(f"{when:%H:%M}")
        else:
            self._fill_days()
            self.day.setCurrentIndex(0)
            self.time.setText(time_text)
        self.approximate.setChecked(draft.occurred_precision == "approximate")
        set_combo(self.shift, draft.shift)
        set_combo(self.location, draft.location)
        if draft.ward_id is not None and self.ward.findData(draft.ward_id) >= 0:
            set_combo(self.ward, draft.ward_id)


class DescriptionStep(Step):
    title = "Description"

    def __init__(self):
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("What happened, in your own words",
                                 "Keep to the facts: who did what, and what was said (use their words). "
                                 "Use initials or hospital numbers, never names."))
        label = QLabel("Descr&iption")
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setAccessibleName("Description of what happened")
        label.setBuddy(self.description)
        layout.addWidget(label)
        layout.addWidget(self.description, 2)
        self.description_warning = LiveLabel("Privacy warning")
        layout.addWidget(self.description_warning)
        self.errors["description"] = error_label("the description")
        layout.addWidget(self.errors["description"])
        label2 = QLabel("What has been done already (optional)")
        self.actions = QPlainTextEdit()
        self.actions.setTabChangesFocus(True)
        self.actions.setAccessibleName("Immediate actions taken")
        self.actions.setPlaceholderText("For example: patients separated, observations increased, doctor informed.")
        label2.setBuddy(self.actions)
        layout.addWidget(label2)
        layout.addWidget(self.actions, 1)
        self.actions_warning = LiveLabel("Privacy warning")
        layout.addWidget(self.actions_warning)
        self.description_guard = PrivacyGuard(self.description, self.description_warning)
        self.actions_guard = PrivacyGuard(self.actions, self.actions_warning)
        self.description.textChanged.connect(self.changed.emit)
        self.actions.textChanged.connect(self.changed.emit)

    def focus_first(self) -> None:
        self.description.setFocus()

    def values(self) -> dict:
        return {"description": self.description.toPlainText(), "immediate_actions": self.actions.toPlainText()}

    def load(self, draft) -> None:
        self.description.setPlainText(draft.description)
        self.actions.setPlainText(draft.immediate_actions)
