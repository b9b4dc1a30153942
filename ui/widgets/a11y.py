"""What a screen reader hears (ui layer): labels whose changing text is read and announced.

A QLabel given a fixed accessible name is read by that name only: Orca said "Problem with the time" and never the
problem. A `LiveLabel` has no fixed name, so its accessible name is always its current text (Qt reads it from the
text); what it is for goes in the accessible description; and each change of text asks assistive technology to
announce the new text (`QAccessibleAnnouncementEvent`, Qt 6.8). WCAG 2.2 success criteria 4.1.2 (name, role,
value), 4.1.3 (status messages) and 3.3.1 (error identification).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QTextDocument
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget


def plain(text: str) -> str:
    """The words of a label's text as a screen reader gets them: rich text turned to plain, spaces tidied."""
    if QtGuiNamespace.mightBeRichText(text):
        document = QTextDocument()
        document.setHtml(text)
        text = document.toPlainText()
    return " ".join(text.split())


def announce(widget: QWidget, text: str, *, urgent: bool = False) -> None:
    """Ask screen readers to say `text` now, if `widget` is on show (a hidden page's message is not news)."""
    message = plain(text)
    if not message or not widget.isVisibleTo(widget.window()):
        return
    event = QAccessibleAnnouncementEvent(widget, message)
    if urgent:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


class LiveLabel(QLabel):
    """A message, count or state that changes while the screen is open.

    `purpose` (for example "Problem with the time") is the accessible description; the accessible name is the text
    itself. `urgent` messages (a refused sign-in, a report not sent) interrupt the screen reader; the rest wait.
    """

    def __init__(self, purpose: str, text: str = "", parent: QWidget | None = None, *, urgent: bool = False):
        super().__init__(text, parent)
        self.urgent = urgent
        self.setAccessibleDescription(purpose)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        changed = text != self.text()
        super().setText(text)
        if changed:
            announce(self, text, urgent=self.urgent)

    def set_quietly(self, text: str) -> None:
        """Change the text (its accessible name follows) without interrupting: for routine news such as an
        autosave every few seconds, which a screen reader user can read when they look but need not hear."""
        super().setText(text)


def reflow_layout(page: QWidget) -> QVBoxLayout:
    """The page's content inside a frameless scroll area, so the window fits a small or zoomed screen (WCAG 1.4.10
    reflow; 200% on 1920x1080 leaves 960x540): at a normal size nothing scrolls, on a small one the page does.
    Returns the layout to build the page in."""
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea(page)
    scroll.setObjectName("reflow")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    body = QWidget()
    scroll.setWidget(body)
    outer.addWidget(scroll)
    return QVBoxLayout(body)
