"""The setup wizard's recovery-key page (ui layer): the key, shown once, to print or write down. Lantern keeps no
copy; the page cannot be left until the person confirms the key is stored (ui.dialogs.setup_wizard)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QVBoxLayout, QWizardPage

from ui.widgets.a11y import LiveLabel


class RecoveryKeyPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Print or write down the recovery key")
        self.setSubTitle("This is the only way back in if every administrator forgets their password. It is shown "
                         "once, now, and Lantern does not keep a copy.")
        layout = QVBoxLayout(self)
        self.key = LiveLabel("Recovery key")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(20)
        font.setBold(True)
        self.key.setFont(font)
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                         | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key.setObjectName("recoverykey")
        layout.addWidget(self.key)
        advice = QLabel("Keep it on paper in a locked place away from this computer (for example the ward safe "
                        "or the IT office). Do not save it in a file, an email or a photo. Anyone with this key and "
                        "a copy of the store can read every report.")
        advice.setWordWrap(True)
        layout.addWidget(advice)
        self.print_button = QPushButton("&Print the key…")
        self.print_button.clicked.connect(self.print_key)
        layout.addWidget(self.print_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.confirm = QCheckBox("I have printed or written down the recovery key and put it somewhere safe")
        self.confirm.setAccessibleName("I have printed or written down the recovery key and put it somewhere safe")
        layout.addWidget(self.confirm)
        self.registerField("key_stored*", self.confirm)
        layout.addStretch(1)

    def nextId(self) -> int:  # noqa: N802 - Qt override
        return -1

    def set_key(self, key: str, folder: Path) -> None:
        groups = key.split("-")
        self.key.setText("-".join(groups[:4]) + "\n" + "-".join(groups[4:]))
        self.full_key, self.folder = key, folder

    def print_key(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        if QPrintDialog(printer, self).exec():
            doc = QTextDocument()
            doc.setHtml(f"<h1>Lantern recovery key</h1><p>Store folder: {self.folder}</p>"
                        f"<p style='font-size:20pt;font-family:monospace'><b>{self.key.text().replace(chr(10), '<br>')}"
                        "</b></p><p>Keep this paper locked away. Anyone with it and a copy of the store can read "
                        "every report.</p>")
            doc.print_(printer)
