"""Where a store may live (core layer): a local disk only, never a network share (WAL needs shared memory)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.errors import StoreLocationRefused

NETWORK_FS = {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "sshfs", "fuse.sshfs", "afs",
              "9p", "ncpfs", "davfs", "fuse.davfs2", "glusterfs", "ceph", "fuse.rclone", "fuse.gvfsd-fuse"}

_DRIVE_REMOTE = 4  # GetDriveTypeW: a network drive

REFUSAL = ("Lantern cannot keep its store on a network drive: shared folders can corrupt an encrypted "
           "database. Choose a folder on this computer's own disk.")


def _linux_fs_type(path: Path, mounts_text: str) -> str:
    best, best_type = "", ""
    for line in mounts_text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        if (str(path) == mount_point or str(path).startswith(mount_point.rstrip("/") + "/")) and len(mount_point) > len(best):
            best, best_type = mount_point, parts[2]
    return best_type


def _windows_is_remote(path: Path) -> bool:
    import ctypes

    drive = os.path.splitdrive(str(path))[0]
    if not drive or drive.startswith("\\\\"):
        return True
    return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == _DRIVE_REMOTE


def check_store_location(folder: Path, *, mounts_text: str | None = None, platform: str | None = None) -> None:
    """Raise StoreLocationRefused if `folder` is on a network share."""
    platform = platform or sys.platform
    text = str(folder)
    if text.startswith("\\\\") or text.startswith("//"):
        raise StoreLocationRefused(REFUSAL)
    if platform.startswith("win"):
        if _windows_is_remote(folder.resolve()):
            raise StoreLocationRefused(REFUSAL)
        return
    if mounts_text is None:
        try:
            mounts_text = Path("/proc/mounts").read_text()
        except OSError:
            return
    existing = folder.resolve()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if _linux_fs_type(existing, mounts_text) in NETWORK_FS:
        raise StoreLocationRefused(REFUSAL)
