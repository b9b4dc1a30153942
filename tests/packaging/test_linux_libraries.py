"""The README's Linux library list comes from the xcb platform plugin itself (issue 11, item 15).

`ldd` on PySide6's libqxcb.so lists every shared library the plugin loads (the whole chain). Each one that is
not shipped inside PySide6 must be in the table below, with its Debian/Ubuntu package and whether the README's
`apt-get install` line names it. A new Qt that needs a new library fails here until the table and the README are
updated, so the list cannot drift. Where dpkg knows the file, the table's package name is checked against it.

The README names the window-system libraries (X11, xcb, xkb, GL, EGL, fontconfig): a minimal or server install
lacks them. The rest are the base system every Debian or Ubuntu desktop has, or are pulled in by apt as
dependencies of the ones named.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# soname (without version) -> (Debian package, named in the README's install line)
LIBRARIES = {
    "libGL": ("libgl1", True), "libEGL": ("libegl1", True), "libfontconfig": ("libfontconfig1", True),
    "libX11": ("libx11-6", True), "libX11-xcb": ("libx11-xcb1", True), "libxcb": ("libxcb1", True),
    "libxcb-cursor": ("libxcb-cursor0", True), "libxcb-icccm": ("libxcb-icccm4", True),
    "libxcb-image": ("libxcb-image0", True), "libxcb-keysyms": ("libxcb-keysyms1", True),
    "libxcb-randr": ("libxcb-randr0", True), "libxcb-render": ("libxcb-render0", True),
    "libxcb-render-util": ("libxcb-render-util0", True), "libxcb-shape": ("libxcb-shape0", True),
    "libxcb-shm": ("libxcb-shm0", True), "libxcb-sync": ("libxcb-sync1", True),
    "libxcb-util": ("libxcb-util1", True), "libxcb-xfixes": ("libxcb-xfixes0", True),
    "libxcb-xkb": ("libxcb-xkb1", True), "libxkbcommon": ("libxkbcommon0", True),
    "libxkbcommon-x11": ("libxkbcommon-x11-0", True),
    # Dependencies of the above (apt installs them) or the base system.
    "libGLdispatch": ("libglvnd0", False), "libGLX": ("libglx0", False), "libXau": ("libxau6", False),
    "libXdmcp": ("libxdmcp6", False), "libfreetype": ("libfreetype6", False), "libpng16": ("libpng16-16", False),
    "libexpat": ("libexpat1", False), "libbrotlidec": ("libbrotli1", False), "libbrotlicommon": ("libbrotli1", False),
    "libglib-2.0": ("libglib2.0-0", False), "libgthread-2.0": ("libglib2.0-0", False),
    "libpcre2-8": ("libpcre2-8-0", False), "libdbus-1": ("libdbus-1-3", False), "libsystemd": ("libsystemd0", False),
    "libz": ("zlib1g", False), "libzstd": ("libzstd1", False), "liblzma": ("liblzma5", False),
    "liblz4": ("liblz4-1", False), "libbz2": ("libbz2-1.0", False), "libcap": ("libcap2", False),
    "libgcrypt": ("libgcrypt20", False), "libgpg-error": ("libgpg-error0", False), "libbsd": ("libbsd0", False),
    "libmd": ("libmd0", False), "libffi": ("libffi8", False), "libuuid": ("libuuid1", False),
    "libstdc++": ("libstdc++6", False), "libgcc_s": ("libgcc-s1", False), "libc": ("libc6", False),
    "libm": ("libc6", False), "libpthread": ("libc6", False), "libdl": ("libc6", False), "librt": ("libc6", False),
}
LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


def plugin() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"


def system_libraries() -> dict[str, str | None]:
    """soname -> resolved path (None when ldd says "not found") for every library not shipped in PySide6."""
    inside = str(plugin().parents[2])
    out = subprocess.run(["ldd", str(plugin())], capture_output=True, text=True, check=True).stdout
    found: dict[str, str | None] = {}
    for line in out.splitlines():
        match = LDD_LINE.match(line)
        if match and not match.group(2).startswith(inside) and not Path(match.group(2)).resolve().is_relative_to(
                Path(inside).resolve()):
            found[match.group(1)] = None if match.group(2) == "not found" else match.group(2)
    return found


def stem(soname: str) -> str:
    return soname.split(".so")[0]


def readme_install_line() -> str:
    text = " ".join(REPO.joinpath("README.md").read_text(encoding="utf-8").split())
    match = re.search(r"sudo apt-get install ((?:lib[\w.+-]+ ?)+)", text)
    assert match, "the README has no 'sudo apt-get install lib...' line for Linux"
    return match.group(1)


def dpkg_packages(paths) -> dict[str, str]:
    """path -> the package dpkg says owns it (one dpkg call; /lib and /usr/lib both tried, for merged /usr)."""
    candidates = {}
    for path in paths:
        for form in {path, str(Path(path).resolve())}:
            for candidate in (form, "/usr" + form) if form.startswith("/lib") else (form,):
                candidates[candidate] = path
    done = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True)
    owners = {}
    for line in done.stdout.splitlines():
        package, _, owned = line.partition(": ")
        if owned.strip() in candidates:
            owners[candidates[owned.strip()]] = package.split(":")[0]
    return owners


needs_ldd = pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("ldd"),
                               reason="the xcb plugin and ldd are Linux only")


@needs_ldd
def test_every_library_the_xcb_plugin_loads_is_in_the_table():
    assert plugin().exists(), plugin()
    unknown = sorted(name for name in system_libraries() if stem(name) not in LIBRARIES)
    assert not unknown, (f"the xcb plugin now loads {unknown}: add each to LIBRARIES with its package, and to the "
                         "README's install line if a minimal install lacks it")


@needs_ldd
def test_the_readme_install_line_names_every_window_system_package():
    named = set(readme_install_line().split())
    needed = {LIBRARIES[stem(name)][0] for name in system_libraries() if LIBRARIES.get(stem(name), ("", False))[1]}
    assert needed, "ldd found none of the X libraries; the plugin path or the parsing is wrong"
    assert not needed - named, f"README install line lacks {sorted(needed - named)}"
    assert named <= {package for package, _readme in LIBRARIES.values()}, "README names a package not in the table"


@needs_ldd
@pytest.mark.skipif(not shutil.which("dpkg"), reason="dpkg only on Debian and Ubuntu")
def test_the_table_names_the_package_dpkg_knows():
    found = system_libraries()
    owners = dpkg_packages(path for path in found.values() if path)
    assert owners, "dpkg knows none of the plugin's libraries"
    wrong = {name: (LIBRARIES[stem(name)][0], owners[path]) for name, path in found.items()
             if path in owners and stem(name) in LIBRARIES and owners[path] != LIBRARIES[stem(name)][0]}
    assert not wrong, f"table says / dpkg says: {wrong}"
