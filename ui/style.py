"""Lantern's colours and style sheet, in one place (ui layer), with the contrast each pairing must reach.

WCAG 2.2: 1.4.3 contrast (text 4.5:1) and 1.4.11 non-text contrast (focus indicator, chart bars, borders that
carry meaning: 3:1). tests/ui/test_contrast.py computes every pairing in CONTRAST and the palette the app runs
with, and fails on any colour written elsewhere in ui/.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# Surfaces (Qt's Fusion defaults, stated so their contrast is checked)
WINDOW = "#efefef"
BASE = "#ffffff"
TEXT = "#000000"

# Selection and keyboard focus: white on this blue is 7.0:1; the ring is 6.1:1 on the window, 7.0:1 on a field.
HIGHLIGHT = "#1f5b95"
HIGHLIGHTED_TEXT = "#ffffff"
FOCUS = "#1f5b95"
FOCUS_WIDTH = 2

PLACEHOLDER = "#5c5c5c"  # "Initials or hospital number, never a name" and other examples in empty boxes
DISABLED_TEXT = "#4a4a4a"  # a disabled box still shows information (the nurse's only ward): it must be read
MUTED = "#4f4f4f"  # secondary lines such as the dashboard's "Click a bar…"

ERROR = "#a00000"  # problems ("Needed: …"), overdue counts, RESTRICTED; never colour alone: words say it too
HINT_BACKGROUND = "#fff6d5"
HINT_BORDER = "#8a6d00"
WARNING_BACKGROUND = "#fff3cd"  # privacy warnings, changed-since-export notices
WARNING_TEXT = "#3d2e00"
WARNING_BORDER = "#8a6d00"
DAMAGE_BACKGROUND = "#a00000"
DAMAGE_TEXT = "#ffffff"
OVERDUE_ROW = "#fde2e2"  # table rows: overdue actions (the Due column also says "Overdue")
TODAY_ROW = "#fff4d6"  # table rows: due today
CHART_BAR = "#2f6f9f"

# (what, foreground, background, minimum ratio)
CONTRAST = (
    ("text on the window", TEXT, WINDOW, 4.5),
    ("text in a field", TEXT, BASE, 4.5),
    ("selected row text", HIGHLIGHTED_TEXT, HIGHLIGHT, 4.5),
    ("focus ring on the window", FOCUS, WINDOW, 3.0),
    ("focus ring around a field", FOCUS, BASE, 3.0),
    ("placeholder in a field", PLACEHOLDER, BASE, 4.5),
    ("disabled box's text (the nurse's ward)", DISABLED_TEXT, WINDOW, 4.5),
    ("secondary text", MUTED, WINDOW, 4.5),
    ("problem text on the window", ERROR, WINDOW, 4.5),
    ("problem text in a hint", ERROR, HINT_BACKGROUND, 4.5),
    ("hint text", TEXT, HINT_BACKGROUND, 4.5),
    ("hint border", HINT_BORDER, WINDOW, 3.0),
    ("warning text", WARNING_TEXT, WARNING_BACKGROUND, 4.5),
    ("warning border", WARNING_BORDER, WINDOW, 3.0),
    ("damage banner text", DAMAGE_TEXT, DAMAGE_BACKGROUND, 4.5),
    ("text in an overdue row", TEXT, OVERDUE_ROW, 4.5),
    ("problem text in an overdue row", ERROR, OVERDUE_ROW, 4.5),
    ("text in a due-today row", TEXT, TODAY_ROW, 4.5),
    ("chart bar on the chart", CHART_BAR, BASE, 3.0),
)

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
# The values a style sheet may name as $NAME: the colours above (each pairing checked in CONTRAST) and FOCUS_WIDTH.
VALUES = {name: str(value) for name, value in dict(globals()).items()
          if name.isupper() and isinstance(value, str | int) and not isinstance(value, bool)}


def sheet(name: str) -> str:
    """resources/<name>.qss with its $NAME placeholders filled from VALUES (an unknown name raises KeyError)."""
    text = (RESOURCES / f"{name}.qss").read_text(encoding="utf-8")
    body = re.sub(r"/\*.*?\*/\s*", "", text, flags=re.S)  # comments are for readers, not for Qt
    return Template(body).substitute(VALUES)


STYLE = sheet("lantern")


def palette(base: QPalette) -> QPalette:
    """`base` with Lantern's selection, placeholder and disabled-text colours."""
    p = QPalette(base)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Highlight, QColor(HIGHLIGHT))
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor(HIGHLIGHTED_TEXT))
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled):
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(PLACEHOLDER))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Button, QPalette.ColorRole.Base):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(WINDOW))
    return p


def apply(app: QApplication) -> None:
    app.setPalette(palette(app.palette()))
    app.setStyleSheet(STYLE)
