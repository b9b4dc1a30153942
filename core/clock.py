"""Time helpers (core layer): store UTC, show Europe/London."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    """Aware datetime -> sortable UTC text, e.g. 2026-03-14T21:40:00+00:00."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def now_db() -> str:
    return to_db(utcnow())


def local(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)
