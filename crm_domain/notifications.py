"""In-app notifications, and e-mail copies sent from the outbox over SMTP (`WEFT_SMTP_URL`).

`notify` writes the notification rows and the e-mail outbox messages in the caller's
transaction: a rolled-back change notifies nobody. E-mail goes out after commit, retried with
the outbox's backoff; a user without an address, or a Weft without SMTP, still gets the in-app
notification.

`WEFT_SMTP_URL`: `smtp://user:password@host:port?from=crm@example.com` (add `&starttls=1` for
STARTTLS) or `smtps://...` for implicit TLS.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import parse_qs, unquote, urlparse

from sqlalchemy import ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, UtcDateTime
from core.errors import NotFound
from crm_domain.outbox import OutboxMessage, Outcome, Sender, enqueue
from crm_domain.users import User


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_inbox", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def notify(
    session: Session,
    user_ids: list[int],
    title: str,
    body: str = "",
    link: str | None = None,
    email: bool = True,
) -> list[Notification]:
    users = session.scalars(select(User).where(User.id.in_(set(user_ids)), User.is_active))
    created = []
    for user in users:
        note = Notification(
            user_id=user.id, title=title[:200], body=body, link=link, created_at=clock.now()
        )
        session.add(note)
        session.flush()
        created.append(note)
        if email and user.email:
            enqueue(
                session,
                "email",
                note.id,
                "notification",
                {"to": user.email, "name": user.display_name, "subject": title, "body": body},
            )
    return created


def inbox(session: Session, user: User, unread_only: bool = False, limit: int = 50):
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)).all()
    unread = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    return list(rows), unread


def mark_read(session: Session, user: User, notification_id: int | None = None) -> int:
    """Mark one (or, with no id, every) unread notification of the user read."""
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        if (
            session.scalar(
                select(Notification.id).where(
                    Notification.id == notification_id, Notification.user_id == user.id
                )
            )
            is None
        ):
            raise NotFound(f"You have no notification {notification_id}.")
        stmt = stmt.where(Notification.id == notification_id)
    return session.execute(stmt.values(read_at=clock.now())).rowcount


def email_sender(smtp_url: str | None, timeout: float = 15) -> Sender:
    """An outbox sender for `email` messages over the given SMTP server.

    The `email.smtp_url` system setting, when an administrator set one, overrides `smtp_url`
    (WEFT_SMTP_URL); it is read per message, so a change needs no restart.
    """

    def send(session: Session, message: OutboxMessage) -> Outcome:
        from crm_domain.settings import get_setting

        configured = get_setting(session, "email.smtp_url") or smtp_url
        if not configured:
            return Outcome(True, error="no WEFT_SMTP_URL configured; e-mail skipped")
        url = urlparse(configured)
        options = {k: v[-1] for k, v in parse_qs(url.query).items()}
        sender = options.get("from") or f"weft@{url.hostname or 'localhost'}"
        mail = EmailMessage()
        mail["From"] = formataddr(("Weft CRM", sender))
        mail["To"] = formataddr((message.payload.get("name") or "", message.payload["to"]))
        mail["Subject"] = message.payload["subject"]
        mail.set_content(message.payload.get("body") or message.payload["subject"])
        secure = url.scheme == "smtps"
        port = url.port or (465 if secure else 25)
        try:
            connection_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
            with connection_class(url.hostname or "localhost", port, timeout=timeout) as smtp:
                if options.get("starttls") in ("1", "true"):
                    smtp.starttls(context=ssl.create_default_context())
                if url.username:
                    smtp.login(unquote(url.username), unquote(url.password or ""))
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            return Outcome(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}")
        return Outcome(True, 250)

    return send
