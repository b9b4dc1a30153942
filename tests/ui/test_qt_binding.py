"""The Qt binding must not leak or drop references when it calls our slots.

PySide6 6.12.0 dropped one reference to a slot's return value on every call of a zero-argument
lambda connected to a signal that has arguments: after a few thousand clicks Python's `None` was
freed and the app crashed (on Python 3.11, where None, True and False are not immortal). pyproject
pins PySide6 below 6.12; this test fails if a future version brings such a bug back.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QCheckBox, QPushButton


def test_slot_calls_keep_none_true_and_false_alive(qapp):
    button = QPushButton()
    button.clicked.connect(lambda: None)
    box = QCheckBox()
    box.toggled.connect(lambda: True)
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(500):
        button.click()
        box.toggle()
    qapp.processEvents()
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(a >= b - 50 for a, b in zip(after, before, strict=True)), (before, after)
