"""The one source of "now". Timers, reminders and `weft tick --now` travel in time through it."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("weft_now", default=None)


# The business calendar: due dates and "today" are China Standard Time (UTC+8, no DST).
BUSINESS_TZ = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _frozen.get() or datetime.now(UTC)


def business_today() -> date:
    """Today's date on the business calendar (China), from the injectable clock."""
    return business_date(now())


def business_date(moment: datetime) -> date:
    """The business calendar's (China's) date of an instant; a naive one is taken as UTC, as
    `parse_instant` takes naive text (at 07:00 in China it is still yesterday in UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(BUSINESS_TZ).date()


@contextlib.contextmanager
def frozen_at(instant: datetime) -> Iterator[datetime]:
    """Make `now()` return `instant` inside the block (this thread/context only)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    token = _frozen.set(instant.astimezone(UTC))
    try:
        yield instant
    finally:
        _frozen.reset(token)


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
