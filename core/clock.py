"""The one source of "now". Timers, reminders and `weft tick --now` travel in time through it."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("weft_now", default=None)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _frozen.get() or datetime.now(UTC)


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
