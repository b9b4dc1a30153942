"""Settings on a shared ward PC: one machine-wide file for every Windows user; the rules override only there."""

from __future__ import annotations

import json

import pytest

from core import fs, paths
from core.errors import StorageFailure


def test_machine_wide_settings_win_over_the_users_own(tmp_path):
    paths.settings_path().parent.mkdir(parents=True, exist_ok=True)
    paths.settings_path().write_text(json.dumps({"store": str(tmp_path / "old"), "theme": "dark"}))
    assert paths.configured_store() == tmp_path / "old"
    paths.machine_settings_path().parent.mkdir(parents=True, exist_ok=True)
    paths.machine_settings_path().write_text(json.dumps({"store": str(tmp_path / "ward")}))
    assert paths.configured_store() == tmp_path / "ward"
    assert paths.load_settings()["theme"] == "dark"  # what the machine file does not set still comes through


def test_saving_goes_machine_wide_so_every_user_of_the_pc_opens_the_same_store(tmp_path):
    saved = paths.save_settings({"store": str(tmp_path / "ward")})
    assert saved == paths.machine_settings_path()
    assert not paths.settings_path().exists()
    assert paths.configured_store() == tmp_path / "ward"


@pytest.fixture
def machine_file_refused(monkeypatch):
    """This account may not write the machine-wide settings file (as for a ward user when IT locks it)."""
    real = fs.atomic_write

    def refuse_machine(path, data, **options):
        if path == paths.machine_settings_path():
            raise PermissionError("denied")
        real(path, data, **options)

    monkeypatch.setattr(fs, "atomic_write", refuse_machine)


def test_without_write_access_to_the_machine_file_the_users_own_file_is_used(tmp_path, machine_file_refused):
    assert paths.save_settings({"store": str(tmp_path / "mine")}) == paths.settings_path()
    assert paths.configured_store() == tmp_path / "mine"


def test_a_managed_setting_that_cannot_be_changed_is_refused_in_plain_words(tmp_path, machine_file_refused):
    paths.machine_settings_path().parent.mkdir(parents=True, exist_ok=True)
    paths.machine_settings_path().write_text(json.dumps({"store": str(tmp_path / "ward")}))
    with pytest.raises(StorageFailure) as refused:
        paths.save_settings({"store": str(tmp_path / "elsewhere")})
    assert "Ask IT" in refused.value.message and str(paths.machine_settings_path()) in refused.value.message
    assert paths.configured_store() == tmp_path / "ward"  # unchanged, and nothing half-saved
    assert not paths.settings_path().exists()


def test_the_rules_override_is_read_machine_wide_only(monkeypatch):
    monkeypatch.delenv("LANTERN_RULES_OVERRIDE", raising=False)
    users_own = paths.config_dir() / "rules-local.toml"
    users_own.parent.mkdir(parents=True, exist_ok=True)
    users_own.write_text("version = 1\n")
    assert paths.rules_override() is None  # one user cannot change the prompts they are given
    machine = paths.site_config_dir() / "rules-local.toml"
    machine.parent.mkdir(parents=True, exist_ok=True)
    machine.write_text("version = 1\n")
    assert paths.rules_override() == machine
