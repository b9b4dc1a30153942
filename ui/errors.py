"""The one place the UI turns errors into words (ui layer). No traceback or error text from outside core
ever reaches the screen: LanternErrors carry their own plain message; anything else is logged by class
and location only, and the user sees a calm, generic line."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import LanternError
from core.logs import log_unexpected

UNEXPECTED = ("Something went wrong and Lantern stopped that step. Nothing you typed has been lost. "
              "Try again; if it happens again, call IT and say what you were doing.")


def message_for(err: BaseException) -> str:
    if isinstance(err, LanternError):
        return err.message
    log_unexpected(err)
    return UNEXPECTED


def show_error(parent: QWidget | None, err: BaseException, title: str = "Lantern") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, message_for(err), QMessageBox.StandardButton.Ok, parent)
    box.setAccessibleName("Error message")
    box.exec()


def install_excepthook() -> None:
    """Last line of defence for errors in Qt slots: log safely, show a plain message, never a traceback."""

    def hook(exc_type, exc, tb):
        log_unexpected(exc)
        try:
            show_error(None, exc)
        except Exception:  # noqa: BLE001 - never raise from the hook
            pass

    sys.excepthook = hook
