"""Long waits a person must sit through anyway (setting up the demo store, a password change's Argon2id) run off
the GUI thread, so the window keeps painting and a screen reader keeps working (issue 15 item 1)."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QTimer

from core.errors import ValidationError
from ui import app as app_module
from ui.tasks import run_and_wait


def test_run_and_wait_returns_the_result_while_the_gui_thread_keeps_working(qtbot):
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)

    def slow():
        time.sleep(0.3)
        return threading.current_thread() is threading.main_thread()

    try:
        on_main = run_and_wait(slow)
    finally:
        timer.stop()
    assert on_main is False
    assert len(ticks) >= 3  # the event loop ran while the work was done elsewhere


def test_run_and_wait_raises_the_error_of_the_work(qtbot):
    def refused():
        raise ValidationError({"new": "Too short."})

    with pytest.raises(ValidationError):
        run_and_wait(refused)


def test_the_demo_store_is_set_up_off_the_gui_thread(qtbot, monkeypatch, tmp_path):
    from core import paths
    from core.demo import seed

    threads = []

    def fake_seed(folder, password, *, incidents, **_kwargs):  # records where the seeding runs; nothing else
        threads.append(threading.current_thread() is threading.main_thread())
        (folder / "keyslots.json").parent.mkdir(parents=True, exist_ok=True)
        return "seeded"

    monkeypatch.setattr(seed, "create_or_fill_demo", fake_seed)
    monkeypatch.setattr(paths, "demo_store_dir", lambda: tmp_path / "demo")
    assert app_module._prepare_demo() == tmp_path / "demo"
    assert threads == [False]


def test_a_temporary_password_is_changed_off_the_gui_thread(qtbot, store_folder, monkeypatch, password):
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from core.services import accounts
    from ui.dialogs.signin import ChangePasswordDialog
    from ui.session import Session

    threads = []
    real = accounts.change_password

    def recording(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(accounts, "change_password", recording)
    chosen = "violet harbour tram ledger quietly 93"

    answered, finished = [], []

    def answer(tries: int = 100):  # polls for at most 5 s, and stops when the test is done
        if finished:
            return
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ChangePasswordDialog) and answered:  # asked again: refused; fail, do not hang
            dialog.reject()
        elif isinstance(dialog, ChangePasswordDialog):
            answered.append(True)
            QTest.keyClicks(dialog.old, password)
            QTest.keyClicks(dialog.new, chosen)
            QTest.keyClicks(dialog.again, chosen)
            QTest.keyClick(dialog.again, app_module.Qt.Key.Key_Return)
            QTimer.singleShot(50, lambda: answer(tries - 1))
        elif tries > 0:
            QTimer.singleShot(50, lambda: answer(tries - 1))

    store, nurse = accounts.sign_in(store_folder, "nurse", password)
    controller = app_module.AppController(store_folder)
    controller.session = Session(store_folder, store, nurse)  # as _signed_in sets it for a temporary password
    try:
        QTimer.singleShot(50, answer)
        assert controller._change_temporary_password()
        assert threads == [False]
        assert controller.session.actor.username == "nurse"
    finally:
        finished.append(True)
        controller.session.sign_out()
        controller.session = None
        controller.shutdown()
    again, _nurse = accounts.sign_in(store_folder, "nurse", chosen)
    again.close()
