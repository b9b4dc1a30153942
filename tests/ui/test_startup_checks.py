"""Start-up refuses a broken taxonomy or rules file with a message naming the file, entry and problem."""

from __future__ import annotations

from ui import app as app_module


def test_sound_domain_data_passes():
    assert app_module.check_domain_data() == ""


def test_a_broken_trust_override_stops_start_up_with_a_plain_message(tmp_path, monkeypatch, qapp):
    override = tmp_path / "rules-local.toml"
    override.write_text('version = 1\n[[change]]\nid = "no-such-rule"\nowner_role = "nurse"\n', encoding="utf-8")
    monkeypatch.setenv("LANTERN_RULES_OVERRIDE", str(override))
    message = app_module.check_domain_data()
    assert "rules-local.toml" in message and "no-such-rule" in message

    shown = []
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    assert app_module.run_gui([]) == 2
    assert shown and "rules-local.toml" in shown[0]


def test_a_broken_override_found_while_the_sign_in_window_is_up_stops_lantern(qtbot, make_store, tmp_path,
                                                                               monkeypatch, password):
    """With a store configured, the check runs in the background so the sign-in window shows at once; a broken
    file still stops Lantern before anyone is signed in, even if they already pressed Enter."""
    store, _actors, _recovery, _wards = make_store()
    store.close()
    override = tmp_path / "rules-local.toml"
    override.write_text('version = 1\n[[change]]\nid = "no-such-rule"\nowner_role = "nurse"\n', encoding="utf-8")
    monkeypatch.setenv("LANTERN_RULES_OVERRIDE", str(override))
    shown, exits = [], []
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(app_module.QApplication.instance(), "exit", lambda code=0: exits.append(code))
    controller = app_module.AppController(store.folder)
    dialog = controller.show_sign_in("nurse")
    dialog.submitted.emit("nurse", password)  # signing in is queued behind the check
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert "rules-local.toml" in shown[0] and "no-such-rule" in shown[0] and "will not start" in shown[0]
    assert exits == [2] and controller.dialog is None
    assert controller.runner.wait(20_000)
    qtbot.wait(50)
    assert controller.window is None and controller.session is None


def test_gui_arguments():
    assert app_module.parse_gui_args(["--setup"])["setup"] is True
    assert app_module.parse_gui_args(["--store", "x"])["store"].name == "x"
    assert app_module.parse_gui_args(["--demo"])["demo"] is True


def test_home_report_button_opens_the_form_and_managers_see_it_admins_do_not(qtbot, make_store, password):
    from tests.ui.nurse_helpers import sign_in
    from ui.pages.home import HomePage
    from ui.pages.incident_form import IncidentFormPage

    store, _actors, _recovery, _wards = make_store()
    store.close()
    controller = app_module.AppController(store.folder)
    try:
        window = sign_in(qtbot, controller, "nurse", password)
        home = window.page(HomePage)
        window.tabs.setCurrentWidget(home)
        home.report_button.setFocus()
        qtbot.keyClick(home.report_button, app_module.Qt.Key.Key_Space)
        assert window.tabs.currentWidget() is window.page(IncidentFormPage)
    finally:
        controller.shutdown()
    admin_controller = app_module.AppController(store.folder)
    try:
        window = sign_in(qtbot, admin_controller, "admin", password)
        assert window.page(HomePage).report_button is None
    finally:
        admin_controller.shutdown()
