"""Files written safely (a leaf module): atomic replacement, and owner-only files and folders: what Lantern writes
is 0600, the folders it makes 0700 (POSIX).

On Windows, permission bits do not apply; the installer gives Lantern's folders an owner-only ACL
(packaging/windows, docs/admin-guide.md "File permissions on Windows"). Folders that already exist are left as they
are: a trust may share a backup folder on purpose.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def make_private(path: Path) -> None:
    """Make an existing file 0600 or folder 0700 (POSIX only)."""
    if os.name == "posix":
        os.chmod(path, PRIVATE_FOLDER if Path(path).is_dir() else PRIVATE_FILE)


def private_folders(folder: Path) -> None:
    """Create `folder` and any missing parents, each owner-only. Existing folders are not changed."""
    missing = []
    path = Path(folder)
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        make_private(path)


def open_private(path: Path, mode: str = "wb", **kwargs):
    """Open `path` for writing, created 0600 from its first byte (`mode` "wb", "ab", "a" or "w")."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0) * ("b" in mode)
    flags |= os.O_APPEND if mode.startswith("a") else os.O_TRUNC
    return open(os.open(path, flags, PRIVATE_FILE), mode, **kwargs)


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` to `path` so that a crash leaves either the old or the new file, never half.

    `private` makes the file readable by its owner only (on systems with POSIX permissions).
    """
    tmp = path.with_name(path.name + f".tmp-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o600 if private else 0o666)
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
