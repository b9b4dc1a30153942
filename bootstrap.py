"""Set up Lantern's environment and run it: `python3 bootstrap.py run` or `python3 bootstrap.py test`.

Creates `.venv` beside this file, installs the project with its test tools (again
only when pyproject.toml changes), then starts the app or runs the whole test
suite headless. Works the same on Linux and Windows (`py bootstrap.py ...`).
Standard library only, because it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".lantern-bootstrap-stamp"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before the venv exists
        sys.exit("Lantern needs Python 3.11 or newer.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PY.exists():
        print("Creating the environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing Lantern and its dependencies ...", flush=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
    install_independent_sqlcipher()
    STAMP.write_text(wanted)


INDEPENDENT = VENV / "independent-sqlcipher"


def install_independent_sqlcipher() -> None:
    """A separate SQLCipher build for the independent-build test, in its own folder (it shares the import
    name `sqlcipher3` with the app's build, so it must never land in site-packages)."""
    import tomllib

    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["lantern"]["independent-sqlcipher"]
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target",
                    str(INDEPENDENT), spec], check=True)


def postgresql_installed() -> bool:
    import glob
    import shutil

    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


def ensure_postgresql() -> None:
    """The PostgreSQL tests start their own throwaway server (tests/pg/server.py); they need the server programs.
    On CI (`CI=true`), a Debian or Ubuntu machine without them gets Debian's `postgresql` package; elsewhere the
    tests skip with one line saying how to run them. Nothing is started here, and no system service is enabled."""
    if os.name == "nt" or postgresql_installed() or os.environ.get("CI", "").lower() != "true":
        return
    import shutil

    apt = shutil.which("apt-get")
    if apt is None:
        return  # the tests then fail on CI, saying what is missing
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print("Installing the PostgreSQL server for the tests ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*sudo, apt, "-qq", "update"], check=True, env=env)
    subprocess.run([*sudo, apt, "-qq", "install", "-y", "--no-install-recommends", "postgresql"], check=True, env=env)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    ensure_env()
    env = dict(os.environ)
    if what == "run":
        extra = argv[1:] or ["--demo"]  # with no arguments: the built-in demo store
        return subprocess.call([str(PY), str(ROOT / "main.py"), *extra], cwd=ROOT, env=env)
    if what == "test":
        env["QT_QPA_PLATFORM"] = "offscreen"
        ensure_postgresql()
        steps = [
            [str(PY), "-m", "ruff", "check", "."],
            [str(VENV / ("Scripts/lint-imports.exe" if os.name == "nt" else "bin/lint-imports"))],
            [str(PY), "-m", "pytest", *argv[1:]],
        ]
        for step in steps:
            print("$", " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)), flush=True)
            code = subprocess.call(step, cwd=ROOT, env=env)
            if code != 0:
                return code
        return 0
    if what == "bench":
        env["QT_QPA_PLATFORM"] = "offscreen"
        return subprocess.call([str(PY), "-m", "pytest", "tests/bench", "-p", "no:randomly",
                                "--benchmark-only", *argv[1:]], cwd=ROOT, env=env)
    print("usage: python3 bootstrap.py [run|test|bench] [extra arguments]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
