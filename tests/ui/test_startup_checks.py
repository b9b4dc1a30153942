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


def test_gui_arguments():
    assert app_module.parse_gui_args(["--setup"])["setup"] is True
    assert app_module.parse_gui_args(["--store", "x"])["store"].name == "x"
    assert app_module.parse_gui_args(["--demo"])["demo"] is True
