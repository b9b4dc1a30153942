"""Plain-English wording for the incident form and its prompts (ui layer, no widgets): due times, owners."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

from core.clock import local, utcnow
from core.security.permissions import ROLE_LABELS

GROUPS = (("now", "Do now"), ("today", "Today"), ("later", "Later"))
STATUS_LABELS = {"draft": "Draft (not sent yet)", "submitted": "Submitted", "in_review": "Being reviewed",
                 "closed": "Closed"}


def due_text(due: datetime, now: datetime | None = None) -> str:
    """'by 14:30 today', 'by 09:00 tomorrow', 'by Tue 29 Dec', or 'overdue since 14:30 today' (Europe/London)."""
    now = now or utcnow()
    when, today = local(due), local(now).date()
    if when.date() == today:
        day = f"{when:%H:%M} today"
    elif when.date() == today + timedelta(days=1):
        day = f"{when:%H:%M} tomorrow"
    elif when.date() == today - timedelta(days=1):
        day = f"{when:%H:%M} yesterday"
    else:
        day = f"{when:%a} {when.day} {when:%b}" + (f" {when.year}" if when.year != local(now).year else "")
    return f"overdue since {day}" if due < now else f"by {day}"


def owner_text(owner_role: str, owner_label: str) -> str:
    return owner_label or ROLE_LABELS.get(owner_role, owner_role.replace("_", " ").capitalize())


def esc(text: str) -> str:
    """Text made safe for a rich-text label (quotes left alone, so they read as quotes)."""
    return html.escape(text, quote=False)
