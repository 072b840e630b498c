"""The outbox: side effects that leave Weft (webhooks now, e-mail later) are rows first.

A message is written in the same transaction as the change that caused it, so a rolled-back
change never sends anything. After commit the scheduler claims due messages with a short lease
(committed before any network call, so no lock is held while waiting on a slow receiver), sends
them, and records each attempt; failures are retried with exponential backoff until they give
up as `dead`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core import clock
from core.db import Base, JsonType, UtcDateTime, is_postgres

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "webhook"
    target_id: Mapped[int | None] = mapped_column(Integer, index=True)  # e.g. the endpoint
    event: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # sending, sent, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


def enqueue(session: Session, kind: str, target_id: int | None, event: str, payload: dict):
    message = OutboxMessage(
        kind=kind,
        target_id=target_id,
        event=event,
        payload=payload,
        status="pending",
        next_attempt_at=clock.now(),
        created_at=clock.now(),
    )
    session.add(message)
    return message


@dataclass
class Outcome:
    """What one send attempt returned: ok, and the HTTP status or error for the log."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


Sender = Callable[[Session, OutboxMessage], Outcome]


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def _claim(factory: sessionmaker[Session], now: datetime, limit: int) -> list[int]:
    with factory() as session, session.begin():
        stmt = (
            select(OutboxMessage)
            .where(
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        claimed = list(session.scalars(stmt))
        for message in claimed:
            # A lease: if this process dies mid-send, the message is due again afterwards.
            message.status = "sending"
            message.next_attempt_at = now + LEASE
        return [message.id for message in claimed]


def dispatch_due(
    factory: sessionmaker[Session],
    senders: dict[str, Sender],
    now: datetime | None = None,
    limit: int = 100,
) -> DispatchReport:
    now = now or clock.now()
    report = DispatchReport()
    for message_id in _claim(factory, now, limit):
        with factory() as session, session.begin():
            message = session.get(OutboxMessage, message_id)
            started = clock.now()
            try:
                outcome = senders[message.kind](session, message)
            except Exception as exc:  # a sender bug must not stop the other messages
                outcome = Outcome(False, error=f"{type(exc).__name__}: {exc}")
            elapsed = int((clock.now() - started).total_seconds() * 1000)
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    at=now,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=max(elapsed, 0),
                )
            )
            message.attempts += 1
            if outcome.ok:
                message.status, message.sent_at, message.last_error = "sent", now, None
                report.sent += 1
            elif message.attempts >= MAX_ATTEMPTS:
                message.status, message.last_error = "dead", outcome.error
                report.dead += 1
            else:
                message.status, message.last_error = "pending", outcome.error
                message.next_attempt_at = now + backoff(message.attempts)
                report.retried += 1
    return report
