"""Login lockout: after 5 failed sign-ins in a row a username is locked for 15 minutes.

Counted per username (known or not, so the answer never tells whether an account exists),
in the database so every web worker sees the same count. A successful sign-in clears it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, UtcDateTime

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


def _key(username: str) -> str:
    return username.strip().lower()[:80]


def locked_until(session: Session, username: str) -> datetime | None:
    """When the lock on this username ends, or None when it may try now."""
    row = session.get(LoginThrottle, _key(username))
    if row is None or row.locked_until is None or row.locked_until <= clock.now():
        return None
    return row.locked_until


def record_failure(session: Session, username: str) -> datetime | None:
    """Count a failed sign-in; the lock's end when this failure locks the username."""
    key = _key(username)
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.username == key))
    now = clock.now()
    if row is None:
        row = LoginThrottle(username=key, failures=0)
        session.add(row)
    if row.locked_until is not None and row.locked_until <= now:
        row.failures, row.locked_until = 0, None  # an expired lock starts a fresh count
    row.failures += 1
    row.last_failed_at = now
    if row.failures >= MAX_FAILURES:
        row.locked_until = now + LOCK_DURATION
    session.flush()
    return row.locked_until


def clear_failures(session: Session, username: str) -> None:
    row = session.get(LoginThrottle, _key(username))
    if row is not None:
        session.delete(row)
        session.flush()
