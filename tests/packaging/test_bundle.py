"""The Linux bundle: build it with PyInstaller, then run `--version` and `--self-test` from it, headless.

Slow (about two minutes on two cores), so it runs in CI (CI=true) or when LANTERN_BUILD_BUNDLE=1.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

import core

ROOT = Path(__file__).resolve().parents[2]
WANTED = os.environ.get("CI", "").lower() == "true" or os.environ.get("LANTERN_BUILD_BUNDLE") == "1"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not WANTED, reason="builds the PyInstaller bundle (slow): runs when CI=true or "
                                          "LANTERN_BUILD_BUNDLE=1"),
    pytest.mark.skipif(sys.platform != "linux", reason="this test builds the Linux bundle"),
]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_linux", ROOT / "packaging" / "build_linux.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_linux"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    build_linux = _build_module()
    base = tmp_path_factory.mktemp("bundle")
    built = build_linux.build(base / "dist", base / "work")
    print(f"\nbundle built in {built.seconds:.0f} s, {built.size_bytes / 1e6:.0f} MB")
    return build_linux, built


def test_the_bundle_has_both_programs_and_its_data(bundle):
    _module, built = bundle
    assert (built.folder / "Lantern").is_file() and built.console.is_file()
    internal = built.folder / "_internal"
    assert (internal / "resources" / "taxonomy.toml").is_file()
    assert (internal / "resources" / "rules.toml").is_file()
    assert sorted(p.name for p in (internal / "core" / "db" / "migrations" / "versions").glob("*.py")) == \
        sorted(p.name for p in (ROOT / "core" / "db" / "migrations" / "versions").glob("*.py"))
    assert (built.folder / "lantern.desktop").is_file()
    left_out = [p for pattern in ("*Qt6Quick*", "*Qt6Qml*", "*QtWebEngine*") for p in internal.rglob(pattern)]
    assert not [p for p in left_out if p.exists()]  # (a dangling symlink would be harmless)


def test_version_runs_from_the_bundle(bundle):
    module, built = bundle
    done = module.run_bundle(built, "--version")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"Lantern {core.__version__}"


def test_self_test_passes_from_the_bundle_headless(bundle):
    module, built = bundle
    done = module.run_bundle(built, "--self-test")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for name in ("sqlcipher", "encrypted store", "taxonomy and rules", "qt"):
        assert f"ok   {name}:" in output
    assert "Self-test passed." in output and "Traceback" not in output
