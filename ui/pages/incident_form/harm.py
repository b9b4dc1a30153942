"""How much harm was done (ui layer): the report form's harm page, one block of grades per person affected."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.taxonomy import load_taxonomy
from ui.pages.incident_form.steps import Step, error_label, heading
from ui.pages.incident_form.wording import esc


class HarmStep(Step):
    title = "Harm"

    def __init__(self):
        super().__init__()
        self.tax = load_taxonomy()
        layout = QVBoxLayout(self)
        layout.addWidget(heading("How much harm was done?",
                                 "Grade physical and psychological harm for each person affected."))
        warning = QLabel("<b>Sexual incidents are often graded too low.</b> Being touched without agreement is not "
                         "'no harm' just because there is no mark. Ask the person how they feel; do not assume. "
                         "If you are unsure between two levels, choose the higher one: your ward manager reviews it.")
        warning.setWordWrap(True)
        warning.setObjectName("hint")
        layout.addWidget(warning)
        self.errors["harm"] = error_label("harm")
        layout.addWidget(self.errors["harm"])
        self.body = QWidget()
        self.column = QVBoxLayout(self.body)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(scroll, 1)
        self.harm: dict[int, list] = {}  # person editor key -> [physical, psychological]
        self.groups: dict[tuple[int, str], QButtonGroup] = {}
        self.empty = QLabel("Add the person affected on the 'Who was involved' page first.")

    def sync(self, entries) -> None:
        """Rebuild one block per affected person, keeping grades already chosen."""
        while self.column.count():
            widget = self.column.takeAt(0).widget()
            if widget is not None and widget is not self.empty:
                widget.deleteLater()
        self.groups.clear()
        affected = [(e, p) for e, p in entries if e.role.currentData() == "affected"]
        for editor, person in affected:
            self.harm.setdefault(editor.key, [None, None])
            described = f"Person {editor.number}"
            if person is not None:
                described += f": {self.tax.label('person_types', person.person_type).lower()}"
                if person.local_ref:
                    described += f" {person.local_ref}"
            box = QGroupBox(f"Harm to {described}")
            box.setAccessibleName(f"Harm to {described}")
            inner = QHBoxLayout(box)
            for index, scale in enumerate(("physical", "psychological")):
                inner.addWidget(self._scale(editor.key, index, scale), 1)
            self.column.addWidget(box)
        if not affected:
            self.column.addWidget(self.empty)
        self.column.addStretch(1)

    def _scale(self, key: int, index: int, scale: str) -> QGroupBox:
        box = QGroupBox(f"{scale.capitalize()} harm")
        box.setAccessibleName(f"{scale.capitalize()} harm")
        column = QVBoxLayout(box)
        group = QButtonGroup(box)
        group.setExclusive(True)
        for level in getattr(self.tax, f"harm_{scale}"):
            radio = QRadioButton(level.label)
            radio.setAccessibleName(level.label)
            radio.setAccessibleDescription(level.guidance)
            radio.setProperty("code", level.code)
            radio.setChecked(self.harm[key][index] == level.code)
            group.addButton(radio)
            column.addWidget(radio)
            guide = QLabel(esc(level.guidance))
            guide.setWordWrap(True)
            guide.setContentsMargins(24, 0, 0, 6)
            column.addWidget(guide)

        def chosen(button, checked, k=key, i=index):
            if checked:
                self.harm[k][i] = button.property("code")
                self.changed.emit()

        group.buttonToggled.connect(chosen)
        self.groups[(key, scale)] = group
        return box

    def grades(self, key: int) -> tuple[str | None, str | None]:
        return tuple(self.harm.get(key, (None, None)))

    def set_grades(self, key: int, physical: str | None, psychological: str | None) -> None:
        self.harm[key] = [physical, psychological]

    def focus_first(self) -> None:
        group = next(iter(self.groups.values()), None)
        if group:
            (group.checkedButton() or group.buttons()[0]).setFocus()
