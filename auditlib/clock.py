"""Beijing time for everything an auditor stores or reads.

The reports, the deadlines and the auditors are all on Beijing time; a server
running on UTC must not date a decision to the previous day. China keeps no
daylight saving time, so a fixed +08:00 offset is exact (and needs no tz database).
"""

from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def now() -> str:
    """The current time in Beijing, ISO 8601 with its offset (``2026-12-01T04:05:06+08:00``)."""
    return dt.datetime.now(BEIJING).isoformat(timespec="seconds")


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def beijing_text(value: str | None) -> str:
    """A stored ISO time shown as Beijing time (``2026-12-01 04:05``); naive times are taken as UTC."""
    if not value:
        return ""
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
