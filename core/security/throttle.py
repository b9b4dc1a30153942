"""Failed sign-in throttling that survives restarts (core layer).

Failures are kept in a small file in the store folder, because the database cannot
be written before someone unlocks it. The file holds usernames, counts and times,
never passwords. Deleting it resets the throttle, so it slows a person at the
keyboard; it cannot stop an attacker who has copied the files (docs/security-model.md).
Failures are copied into the audit trail at the next successful sign-in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.clock import from_db, to_db, utcnow
from core.errors import AccountThrottled
from core.security.keyslots import atomic_write

FILE_NAME = "signin-failures.json"
FREE_ATTEMPTS = 5
FIRST_DELAY_S = 30
MAX_DELAY_S = 15 * 60
MAX_ACCOUNTS = 500  # usernames remembered at once; bounds the file


def delay_after(failures: int) -> int:
    """Seconds to wait after `failures` consecutive failures: none for the first five, then 30 s doubling."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(FIRST_DELAY_S * 2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_S)


@dataclass
class Throttle:
    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / FILE_NAME

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("accounts"), dict):
                data.setdefault("pending", [])
                return data
        except (OSError, ValueError):
            pass
        return {"accounts": {}, "pending": []}

    def _save(self, data: dict) -> None:
        atomic_write(self.path, json.dumps(data, indent=1).encode("utf-8"))

    def check(self, username: str, now: datetime | None = None) -> None:
        """Raise AccountThrottled if this username must wait before trying again."""
        now = now or utcnow()
        entry = self._load()["accounts"].get(username.casefold())
        if not entry:
            return
        wait = delay_after(int(entry["count"]))
        if wait:
            remaining = (from_db(entry["last"]) + timedelta(seconds=wait) - now).total_seconds()
            if remaining > 0:
                raise AccountThrottled(int(remaining) + 1)

    def failed(self, username: str, workstation: str, now: datetime | None = None) -> int:
        now = now or utcnow()
        data = self._load()
        entry = data["accounts"].setdefault(username.casefold(), {"count": 0, "last": to_db(now)})
        entry["count"] = int(entry["count"]) + 1
        entry["last"] = to_db(now)
        if len(data["accounts"]) > MAX_ACCOUNTS:  # someone trying many names: forget the oldest
            oldest = sorted(data["accounts"], key=lambda name: data["accounts"][name]["last"])
            for name in oldest[: len(data["accounts"]) - MAX_ACCOUNTS]:
                data["accounts"].pop(name)
        data["pending"] = (data["pending"] + [
            {"username": username.casefold()[:64], "at": to_db(now), "workstation": workstation[:100]}
        ])[-1000:]
        self._save(data)
        return entry["count"]

    def succeeded(self, username: str) -> list[dict]:
        """Reset this account's counter; return (and clear) failures still to be audited."""
        data = self._load()
        pending = data["pending"]
        data["accounts"].pop(username.casefold(), None)
        data["pending"] = []
        if self.path.exists() or pending:
            self._save(data)
        return pending

    def failures(self, username: str) -> int:
        entry = self._load()["accounts"].get(username.casefold())
        return int(entry["count"]) if entry else 0
