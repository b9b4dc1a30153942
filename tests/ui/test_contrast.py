"""Contrast of every text and focus style Lantern uses (WCAG 2.2: 1.4.3 text 4.5:1; 1.4.11 focus ring, chart bars
and meaningful borders 3:1), computed from ui/style.py and from the palette the running app gets (issue 11 item 8).

Measured before the fix (Fusion's defaults): selected row white on #308cc6 3.69:1; placeholder (black at half
alpha, #808080 on white) 3.95:1; disabled ward box #bebebe on #efefef 1.62:1 (the issue sampled 1.8:1 on screen); Fusion's focus frame (its
highlight at alpha 80) about 1.7:1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from ui import style

UI = Path(__file__).resolve().parents[2] / "ui"


def luminance(colour: str) -> float:
    c = QColor(colour)

    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def ratio(foreground: str, background: str) -> float:
    a, b = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_the_formula_matches_wcags_own_figures():
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#ffffff", "#308cc6") == pytest.approx(3.69, abs=0.01)  # the selected row the issue measured
    assert ratio("#bebebe", "#efefef") == pytest.approx(1.62, abs=0.01)  # Fusion's disabled text on its window


@pytest.mark.parametrize("what, foreground, background, minimum", style.CONTRAST, ids=[c[0] for c in style.CONTRAST])
def test_every_pairing_meets_its_minimum(what, foreground, background, minimum):
    assert ratio(foreground, background) >= minimum, f"{what}: {ratio(foreground, background):.2f}:1"


def test_the_palette_the_app_runs_with(qapp):
    app = QApplication.instance()
    p = style.palette(app.palette())
    active, disabled = QPalette.ColorGroup.Active, QPalette.ColorGroup.Disabled
    role = QPalette.ColorRole

    def pair(group, fg, bg):
        return ratio(p.color(group, fg).name(), p.color(group, bg).name())

    assert pair(active, role.HighlightedText, role.Highlight) >= 4.5
    assert pair(QPalette.ColorGroup.Inactive, role.HighlightedText, role.Highlight) >= 4.5
    assert ratio(p.color(active, role.PlaceholderText).name(), p.color(active, role.Base).name()) >= 4.5
    assert p.color(active, role.PlaceholderText).alpha() == 255  # Fusion's half-transparent default read 3.95:1
    for fg, bg in ((role.ButtonText, role.Button), (role.Text, role.Base), (role.WindowText, role.Window)):
        assert pair(disabled, fg, bg) >= 4.5, f"disabled {fg.name} on {bg.name}"


def test_the_style_sheet_draws_a_focus_ring_on_everything_that_takes_the_focus():
    rule = re.search(r"([^{}]+)\{\s*border:\s*(\d+)px solid (#[0-9a-fA-F]{6});\s*\}", style.STYLE.split("QWidget#damage QLabel")[1])
    selectors, width, colour = rule.group(1), int(rule.group(2)), rule.group(3)
    for kind in ("QPushButton", "QCheckBox", "QRadioButton", "QLineEdit", "QComboBox", "QAbstractItemView",
                 "QPlainTextEdit", "QAbstractSpinBox", "QFrame#prompt"):
        assert f"{kind}:focus" in selectors
    assert width >= 2 and ratio(colour, style.WINDOW) >= 3 and ratio(colour, style.BASE) >= 3


def test_the_running_app_gets_the_palette_and_style_sheet(qtbot):
    from ui.pages.incident_form.steps import WhenWhereStep

    app = QApplication.instance()
    saved_palette, saved_sheet = QPalette(app.palette()), app.styleSheet()
    try:
        style.apply(app)
        step = WhenWhereStep()
        qtbot.addWidget(step)
        step.set_wards([type("Ward", (), {"name": "Oak Ward", "ward_id": 1})()], 1)  # one ward: shown, not changeable
        assert not step.ward.isEnabled()
        p = step.ward.palette()
        g = QPalette.ColorGroup.Disabled
        assert ratio(p.color(g, QPalette.ColorRole.ButtonText).name(), p.color(g, QPalette.ColorRole.Button).name()) >= 4.5
        assert app.styleSheet() == style.STYLE
    finally:
        app.setPalette(saved_palette)
        app.setStyleSheet(saved_sheet)


def test_no_colour_is_written_outside_ui_style():
    """Colours live in ui/style.py, so this test sees every one of them."""
    stray = []
    for path in sorted(UI.rglob("*.py")):
        if path.name == "style.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?\b['\";} ]", line) or re.search(
                    r"color:\s*(white|black|red|gr[ae]y)", line):
                stray.append(f"{path.relative_to(UI.parent)}:{n}: {line.strip()}")
    assert stray == []


QSS = sorted((UI.parent / "resources").glob("*.qss"))


@pytest.mark.parametrize("path", QSS, ids=lambda p: p.name)
def test_style_sheets_take_every_colour_from_ui_style(path):
    """The .qss files name colours as $NAME, filled from ui/style.py, so the pairings above check what is drawn."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    assert not re.search(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?\b", text), f"{path.name} writes a colour itself"
    assert not re.search(r"(color|background|border)[^;{}]*\b(white|black|red|gr[ae]y|rgb)", text)
    checked = {c for _what, fg, bg, _minimum in style.CONTRAST for c in (fg, bg)}
    for name in re.findall(r"\$\{?([A-Z_]+)", text):
        assert name in style.VALUES, f"{path.name} names ${name}, which ui/style.py does not define"
        assert name == "FOCUS_WIDTH" or style.VALUES[name] in checked, f"${name} is in no contrast pairing"
    assert "$" not in style.sheet(path.stem)


def test_the_app_style_sheet_and_the_widget_sheets_come_from_resources(tmp_path, monkeypatch):
    assert {p.stem for p in QSS} >= {"lantern", "report-button", "prompt-reference"}
    assert style.STYLE == style.sheet("lantern")
    assert f"color: {style.ERROR}" in style.STYLE
    (tmp_path / "typo.qss").write_text("/* a comment */ QLabel { color: $EROR; }", encoding="utf-8")
    monkeypatch.setattr(style, "RESOURCES", tmp_path)
    with pytest.raises(KeyError):  # a misspelt colour fails loudly, never draws black
        style.sheet("typo")


def test_no_inline_style_sheet_is_written_in_ui():
    """Style sheets live in resources/*.qss (issue 15 item 5); a widget may only load one with style.sheet()."""
    inline = [f"{path.relative_to(UI.parent)}:{n}" for path in sorted(UI.rglob("*.py")) if path.name != "style.py"
              for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
              if "setStyleSheet(" in line and "sheet(" not in line.split("setStyleSheet(", 1)[1]]
    assert inline == []
