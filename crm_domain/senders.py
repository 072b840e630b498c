"""The outbox senders by message kind: webhooks and e-mail."""

from __future__ import annotations

from crm_domain.notifications import email_sender
from crm_domain.outbox import Sender
from crm_domain.webhooks import send_webhook


def outbox_senders(smtp_url: str | None) -> dict[str, Sender]:
    return {"webhook": send_webhook, "email": email_sender(smtp_url)}
