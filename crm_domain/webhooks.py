"""Outgoing webhooks: CRM record events, HMAC-signed, delivered from the outbox after commit.

Receivers check `X-Weft-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the
endpoint's secret, and may use `X-Weft-Delivery` (the outbox message id) to drop duplicates:
delivery is at least once. The body is `{"event", "occurred_at", "data"}` where `data` is the
record exactly as the REST API returns it to an administrator (see docs/API.md).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime
from core.errors import Invalid, NotFound
from crm_domain.admin_audit import record_admin_change, snapshot
from crm_domain.outbox import DeliveryAttempt, OutboxMessage, Outcome, enqueue

TIMEOUT_SECONDS = 10
USER_AGENT = "Weft-Webhooks/1"


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list] = mapped_column(JsonType, default=list)  # ["customers.*", ...]
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


def _checked(url: str | None, events: list | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if url is not None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 1000:
            errors["url"] = ["Give an http:// or https:// address."]
    if events is not None and (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and 0 < len(e) <= 100 for e in events)
    ):
        errors["events"] = ['List the events, e.g. ["customers.created", "orders.*"].']
    return errors


def create_endpoint(
    session: Session,
    url: str,
    events: list[str],
    description: str = "",
    secret: str | None = None,
    *,
    actor: Any = None,
) -> WebhookEndpoint:
    errors = _checked(url, events)
    if errors:
        raise Invalid("The webhook is not valid.", details=errors)
    endpoint = WebhookEndpoint(
        url=url,
        events=events,
        description=description or "",
        secret=secret or secrets.token_urlsafe(32),
        active=True,
    )
    session.add(endpoint)
    session.flush()
    session.info.pop("weft_webhook_endpoints", None)
    _audit(session, actor, endpoint, None)
    return endpoint


def _audit(session: Session, actor: Any, endpoint: WebhookEndpoint, before: dict | None) -> None:
    after = snapshot(endpoint, frozenset({"created_at"}))  # the signing secret is never logged
    record_admin_change(session, actor, "webhook", f"{endpoint.id} {endpoint.url}", before, after)


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"Webhook {endpoint_id} does not exist.")
    return endpoint


def change_endpoint(
    session: Session, endpoint_id: int, *, actor: Any = None, **changes
) -> WebhookEndpoint:
    endpoint = get_endpoint(session, endpoint_id)
    before = snapshot(endpoint, frozenset({"created_at"}))
    errors = _checked(changes.get("url"), changes.get("events"))
    if errors:
        raise Invalid("The webhook is not valid.", details=errors)
    for key, value in changes.items():
        setattr(endpoint, key, value)
    session.flush()
    session.info.pop("weft_webhook_endpoints", None)
    _audit(session, actor, endpoint, before)
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def _active_endpoints(session: Session) -> list[tuple[int, list]]:
    # Read once per session (one request or job): a bulk import does not query per row.
    cached = session.info.get("weft_webhook_endpoints")
    if cached is None:
        rows = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active)
        )
        cached = session.info["weft_webhook_endpoints"] = [(i, e) for i, e in rows]
    return cached


def record_event(session: Session, collection: str, action: str, data: Callable[[], dict]) -> None:
    """Queue `<collection>.<action>` for every active endpoint subscribed to it.

    `data` is called only when someone subscribes, so unwatched writes pay one cached lookup.
    """
    event = f"{collection}.{action}"
    targets = [
        endpoint_id
        for endpoint_id, patterns in _active_endpoints(session)
        if any(fnmatch.fnmatchcase(event, pattern) for pattern in patterns)
    ]
    if not targets:
        return
    payload = {"event": event, "occurred_at": clock.now().isoformat(), "data": data()}
    for endpoint_id in targets:
        enqueue(session, "webhook", endpoint_id, event, payload)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(session: Session, message: OutboxMessage) -> Outcome:
    endpoint = session.get(WebhookEndpoint, message.target_id)
    if endpoint is None or not endpoint.active:
        return Outcome(True, error="endpoint removed or inactive; dropped")
    body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Weft-Event": message.event,
            "X-Weft-Delivery": str(message.id),
            "X-Weft-Timestamp": str(int(time.time())),
            "X-Weft-Signature": signature(endpoint.secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Outcome(200 <= response.status < 300, response.status)
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code, f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")


def deliveries(session: Session, endpoint_id: int, limit: int = 100) -> list[dict]:
    """The delivery log of one endpoint: each message with its attempts, newest first."""
    get_endpoint(session, endpoint_id)
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "webhook", OutboxMessage.target_id == endpoint_id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    attempts: dict[int, list] = {}
    if messages:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.message_id.in_([m.id for m in messages]))
            .order_by(DeliveryAttempt.id)
        ):
            attempts.setdefault(attempt.message_id, []).append(
                {
                    "at": attempt.at.isoformat(),
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                }
            )
    return [
        {
            "id": m.id,
            "event": m.event,
            "status": m.status,
            "attempts": attempts.get(m.id, []),
            "next_attempt_at": m.next_attempt_at.isoformat() if m.status == "pending" else None,
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            "last_error": m.last_error,
        }
        for m in messages
    ]


SENDERS = {"webhook": send_webhook}
