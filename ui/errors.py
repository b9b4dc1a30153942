"""The one place the UI turns errors into words (ui layer). No traceback or error text from outside core
ever reaches the screen: LanternErrors carry their own plain message; anything else is logged by class
and location only, and the user sees a calm, generic line.

Widgets are only ever made on the GUI thread, and never with a deleted parent: an error that arrives for a
page that has gone, or on another thread, is logged and not shown."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QCoreApplication, QThread
from PySide6.QtWidgets import QMessageBox, QWidget
from shiboken6 import isValid

from core.errors import LanternError
from core.logs import LOGGER_NAME, log_unexpected

UNEXPECTED = ("Something went wrong and Lantern stopped that step. Nothing you typed has been lost. "
              "Try again; if it happens again, call IT and say what you were doing.")


def message_for(err: BaseException) -> str:
    if isinstance(err, LanternError):
        return err.message
    log_unexpected(err)
    return UNEXPECTED


def on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is not None and QThread.currentThread() == app.thread()


def show_error(parent: QWidget | None, err: BaseException, title: str = "Lantern") -> None:
    text = message_for(err)
    if not on_gui_thread() or (parent is not None and not isValid(parent)):
        logging.getLogger(LOGGER_NAME).warning("error not shown (its window has gone, or not on the GUI thread): %s", type(err).__name__)
        return
    _message_box(parent, title, text)


def _message_box(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAccessibleName("Error message")
    box.exec()


def install_excepthook() -> None:
    """Last line of defence for errors in Qt slots: log safely, show a plain message (on the GUI thread only),
    never a traceback."""

    def hook(exc_type, exc, tb):
        log_unexpected(exc)
        if not on_gui_thread():  # e.g. a worker thread while Lantern quits: a widget there would hang it
            return
        try:
            _message_box(None, "Lantern", exc.message if isinstance(exc, LanternError) else UNEXPECTED)
        except Exception:  # noqa: BLE001 - never raise from the hook
            pass

    sys.excepthook = hook
