"""Build the Linux bundle with PyInstaller and smoke-test it headless (packaging).

    .venv/bin/python packaging/build_linux.py [--dist DIR] [--work DIR] [--archive]

Builds dist/Lantern/ from packaging/lantern.spec, copies the .desktop file and icon beside it,
then runs `lantern-console --version` and `lantern-console --self-test` from the bundle with
QT_QPA_PLATFORM=offscreen. Prints the build time and the bundle size; exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "lantern.spec"


@dataclass(frozen=True)
class Build:
    folder: Path
    seconds: float
    size_bytes: int

    @property
    def console(self) -> Path:
        return self.folder / ("lantern-console.exe" if os.name == "nt" else "lantern-console")


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def build(dist: Path, work: Path) -> Build:
    """Run PyInstaller on the spec. Raises CalledProcessError if it fails."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(SPEC)], check=True, cwd=ROOT)
    folder = dist / "Lantern"
    shutil.copy2(ROOT / "packaging" / "linux" / "lantern.desktop", folder / "lantern.desktop")
    shutil.copy2(ROOT / "resources" / "icons" / "lantern.png", folder / "lantern.png")
    return Build(folder, time.monotonic() - started, folder_size(folder))


def run_bundle(bundle: Build, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run the console program from the bundle, headless, with its own temporary log and settings folders."""
    scratch = Path(tempfile.mkdtemp(prefix="lantern-bundle-run-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", LANTERN_LOG_DIR=str(scratch / "logs"),
               LANTERN_CONFIG_DIR=str(scratch / "config"), LANTERN_SITE_CONFIG_DIR=str(scratch / "site-config"),
               LANTERN_DATA_DIR=str(scratch / "data"))
    try:
        return subprocess.run([str(bundle.console), *args], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default=str(ROOT / "dist"))
    parser.add_argument("--work", default=str(ROOT / "build"))
    parser.add_argument("--archive", action="store_true", help="also write dist/lantern-<version>-linux.tar.gz")
    args = parser.parse_args(argv)
    bundle = build(Path(args.dist), Path(args.work))
    print(f"Built {bundle.folder} in {bundle.seconds:.0f} s; size {bundle.size_bytes / 1e6:.0f} MB")
    code = 0
    for check in (["--version"], ["--self-test"]):
        done = run_bundle(bundle, *check)
        print(f"$ lantern-console {' '.join(check)}  (exit {done.returncode})")
        print((done.stdout + done.stderr).rstrip())
        code = code or done.returncode
    if args.archive and code == 0:
        version = run_bundle(bundle, "--version").stdout.split()[-1]
        archive = Path(args.dist) / f"lantern-{version}-linux.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(bundle.folder, arcname="Lantern")
        print(f"Wrote {archive} ({archive.stat().st_size / 1e6:.0f} MB)")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
