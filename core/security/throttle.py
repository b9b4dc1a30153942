"""Failed sign-in throttling that survives restarts (core layer).

Failures are kept in a small file in the store folder, because the database cannot
be written before someone unlocks it. The file holds usernames, counts and times,
never passwords. Deleting it resets the throttle, so it slows a person at the
keyboard; it cannot stop an attacker who has copied the files (docs/security-model.md).
Failures are copied into the audit trail at the next successful sign-in.

Counters for real accounts (`accounts`) are kept apart from those for names no account has (`unknown`).
Only unknown names are ever forgotten to bound the file, and never while a name is still locked out, so
failures on made-up names cannot wipe a real account's counter. Callers pass the normalised username
(core.security.usernames).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.clock import from_db, to_db, utcnow
from core.errors import AccountThrottled
from core.fs import atomic_write

FILE_NAME = "signin-failures.json"
FREE_ATTEMPTS = 5
FIRST_DELAY_S = 30
MAX_DELAY_S = 15 * 60
MAX_ACCOUNTS = 500  # made-up usernames remembered at once; bounds the file


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
                if not isinstance(data.get("unknown"), dict):
                    data["unknown"] = {}
                return data
        except (OSError, ValueError):
            pass
        return {"accounts": {}, "unknown": {}, "pending": []}

    def _save(self, data: dict) -> None:
        atomic_write(self.path, json.dumps(data, indent=1).encode("utf-8"), private=True)

    @staticmethod
    def _entry(data: dict, name: str) -> dict | None:
        return data["accounts"].get(name) or data["unknown"].get(name)

    def check(self, username: str, now: datetime | None = None) -> None:
        """Raise AccountThrottled if this username must wait before trying again."""
        now = now or utcnow()
        entry = self._entry(self._load(), username.casefold())
        if not entry:
            return
        wait = delay_after(int(entry["count"]))
        if wait:
            remaining = (from_db(entry["last"]) + timedelta(seconds=wait) - now).total_seconds()
            if remaining > 0:
                raise AccountThrottled(int(remaining) + 1)

    def failed(self, username: str, workstation: str, now: datetime | None = None, *, known: bool = True) -> int:
        """Count one failure. `known` says whether an account of that name exists."""
        now = now or utcnow()
        data = self._load()
        table = data["accounts"] if known else data["unknown"]
        entry = table.setdefault(username.casefold(), {"count": 0, "last": to_db(now)})
        entry["count"] = int(entry["count"]) + 1
        entry["last"] = to_db(now)
        if len(data["unknown"]) > MAX_ACCOUNTS:  # someone trying many names: forget the oldest unlocked ones
            _forget_oldest(data["unknown"], now)
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
        data["unknown"].pop(username.casefold(), None)
        data["pending"] = []
        if self.path.exists() or pending:
            self._save(data)
        return pending

    def failures(self, username: str) -> int:
        entry = self._entry(self._load(), username.casefold())
        return int(entry["count"]) if entry else 0


def _locked(entry: dict, now: datetime) -> bool:
    wait = delay_after(int(entry["count"]))
    return bool(wait) and from_db(entry["last"]) + timedelta(seconds=wait) > now


def _forget_oldest(table: dict, now: datetime) -> None:
    """Drop the oldest entries until the table is back to MAX_ACCOUNTS, skipping any still locked out."""
    spare = [name for name in sorted(table, key=lambda n: table[n]["last"]) if not _locked(table[name], now)]
    for name in spare[: len(table) - MAX_ACCOUNTS]:
        table.pop(name)
