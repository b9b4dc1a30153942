"""Helpers for the nurse-journey tests: sign in through the real dialog, press keys on whatever has focus."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ui.app import AppController
from ui.pages.incident_form import IncidentFormPage

WAIT = 15000
# Tab stops of the yes / no / not known questions on the people page (ui/pages/incident_form/people.py QUESTIONS):
# an affected patient is asked all six; an affected member of staff all but detention; an alleged
# perpetrator under 18 and capacity.
ANSWERS_AFFECTED_PATIENT = 6
ANSWERS_AFFECTED_STAFF = 5
ANSWERS_PERPETRATOR = 2


def focused():
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has keyboard focus"
    return widget


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    for _ in range(times):
        qtbot.keyClick(focused(), key, modifier)


def alt(qtbot, key) -> None:
    """Press Alt+key. A button's mnemonic clicks it after a short animation, as it would for a person."""
    qtbot.keyClick(focused(), key, Qt.KeyboardModifier.AltModifier)
    qtbot.wait(250)


def type_text(qtbot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def sign_in(qtbot, controller: AppController, username: str, password: str):
    """Type the password (the test's `password` fixture) into the real sign-in dialog and press Enter; return the
    main window."""
    dialog = controller.dialog or controller.show_sign_in(username)
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    dialog.username.setText(username)
    dialog.password.setFocus()
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.isVisible(), timeout=WAIT)
    window = controller.window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)
    return window


def form_of(window) -> IncidentFormPage:
    return window.page(IncidentFormPage)


def keyboard_report(qtbot, window, *, description: str = "Synthetic: AB made sexual comments to CD at the hatch.",
                    submit: bool = True) -> IncidentFormPage:
    """Complete the fast path with the keyboard alone: Ctrl+N, the 8 mandatory inputs, Ctrl+Enter."""
    form = form_of(window)
    qtbot.waitUntil(lambda: form.when.ward.count() > 0, timeout=WAIT)
    window.tabs.setFocus()
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)       # start a report
    assert window.tabs.currentWidget() is form and focused() is form.types.types
    press(qtbot, Qt.Key.Key_Down, times=5)                                # Verbal sexual harassment
    press(qtbot, Qt.Key.Key_Space)                                        # 1. type
    alt(qtbot, Qt.Key.Key_N)           # next page
    assert focused() is form.when.day
    press(qtbot, Qt.Key.Key_Down)                                         # yesterday (any time is past)
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "21:40")                                             # 2. time
    press(qtbot, Qt.Key.Key_Tab, times=4)                                 # now, approximate, shift, where
    assert focused() is form.when.location
    type_text(qtbot, "Lounge")                                            # 3. location
    press(qtbot, Qt.Key.Key_PageDown)                                     # next page
    assert focused() is form.people.editors[0].person_type
    type_text(qtbot, "Staff")                                             # 4. affected person's type
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "CD")                                                # (optional reference)
    # The five questions asked of an affected member of staff, one Tab stop each and left not known (the
    # rules then add their "Confirm whether" checks), then more, remove, role, type.
    press(qtbot, Qt.Key.Key_Tab, times=ANSWERS_AFFECTED_STAFF + 4)
    assert focused() is form.people.editors[1].person_type
    type_text(qtbot, "Patient")                                           # 5. alleged perpetrator's type
    alt(qtbot, Qt.Key.Key_N)
    press(qtbot, Qt.Key.Key_Space)                                        # 6. no physical harm
    press(qtbot, Qt.Key.Key_Tab)
    press(qtbot, Qt.Key.Key_Space)                                        # 7. psychological: first level
    press(qtbot, Qt.Key.Key_Down, times=2)                                #    ... moved up to moderate
    alt(qtbot, Qt.Key.Key_N)
    assert focused() is form.description.description
    type_text(qtbot, description)                                         # 8. description
    alt(qtbot, Qt.Key.Key_N)
    assert form.stack.currentWidget() is form.summary
    if submit:
        press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    return form
