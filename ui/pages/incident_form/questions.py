"""The yes / no / not known questions asked of each person on the report form (ui layer), and their answer row."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QRadioButton, QVBoxLayout, QWidget

from ui.pages.incident_form.wording import esc

# The questions whose answers add or remove safeguarding actions (resources/rules.toml), asked on each person:
# (field, question, short accessible name, why we ask, the roles it is asked of, None for all). Each is yes / no / not
# known, and not known (the default) never removes an action: it gives a "Confirm whether ..." check instead,
# so answering is how a nurse gets a shorter, exact list (docs/safeguarding-rules.md, issue 12 A).
QUESTIONS = (
    ("under_18", "Under 18?", "Under 18",
     "A child brings in children's social care, and under 16 the police (Children Act 1989 s47; Sexual Offences "
     "Act 2003). On a CAMHS ward Lantern takes a patient as under 18 unless you answer no.", None),
    ("detained", "Detained under the Mental Health Act?", "Detained under the Mental Health Act",
     "A detained patient must be told about the Independent Mental Health Advocate (IMHA) service (Mental "
     "Health Act 1983 s130D).", ("affected",)),
    ("capacity_concern", "Doubt about their capacity to consent?", "Doubt about their capacity to consent",
     "If anyone's capacity to consent to sexual relations is in doubt, it must be assessed (Mental Capacity "
     "Act 2005).", ("affected", "alleged_perpetrator")),
    ("care_support_needs", "Care and support needs?", "Care and support needs",
     "An adult with care and support needs who is abused needs a safeguarding concern (Care Act 2014 s42). "
     "Lantern takes a patient as having them unless you answer no.", ("affected",)),
    ("could_become_pregnant", "Could they become pregnant?", "Could they become pregnant",
     "After penile penetration or ejaculation, emergency contraception works up to 120 hours (FSRH guideline).",
     ("affected",)),
    ("police_wishes", "Do they want the police told?", "Do they want the police told",
     "Their answer decides the police action: yes means report now; no or not decided means the decision and "
     "the reasons are recorded and the offer made again.", ("affected",)),
)
YES_NO = (("Not known", None), ("Yes", True), ("No", False))
POLICE_SHORT = {"yes": "Yes", "no": "No", "undecided": "Not decided yet", "unable_to_decide": "Not able to decide"}
# A detained question makes no sense for staff or a visitor (the IMHA rules are for patients only).
NOT_DETAINABLE = ("visitor",)


class AnswerChoice(QWidget):
    """One question as a row of radio buttons, the first (not known) chosen until someone answers.

    Tab stops once, on the chosen answer; the arrow keys move between answers and choose as they go (Qt's
    exclusive group). Each button's accessible name carries the question, so a screen reader says which
    question a "Yes" answers; the reason for asking is each button's description and shown under them.
    """

    changed = Signal()

    def __init__(self, name: str, options, why: str):
        super().__init__()
        self.setAccessibleName(name)
        self.setAccessibleDescription(why)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.values = [value for _text, value in options]
        self.buttons: list[QRadioButton] = []
        for index, (text, _value) in enumerate(options):
            button = QRadioButton(text)
            button.setAccessibleName(f"{name}: {text}")
            button.setAccessibleDescription(why)
            self.group.addButton(button, index)
            self.buttons.append(button)
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)
        self.why = QLabel(esc(why))
        self.why.setObjectName("why")
        self.why.setWordWrap(True)
        font = self.why.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.why.setFont(font)
        column.addWidget(self.why)
        self.buttons[0].setChecked(True)
        self.group.idToggled.connect(lambda _index, on: on and self.changed.emit())

    def value(self):
        return self.values[self.group.checkedId()]

    def set_value(self, value) -> None:
        index = next((i for i, v in enumerate(self.values) if v is value or (v == value and type(v) is type(value))),
                     0)
        self.buttons[index].setChecked(True)
