"""Notifications: in-app at once, e-mail after commit over a real local SMTP server."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from crm_domain.notifications import notify
from crm_domain.outbox import dispatch_due
from crm_domain.senders import outbox_senders


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own port on start)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}?from=crm@jinhua.example"
    yield mailbox
    controller.stop()


def test_a_notification_is_in_the_inbox_and_mailed_after_commit(
    session, session_factory, make_user, api_as, smtp
):
    user = make_user("salesperson")
    user.email = "wang.fang@jinhua.example"
    session.commit()
    me = api_as(user=user)

    notify(session, [user.id], "报价待审批", "Q-2026-0042 折扣 18%，请审批。", "/tasks/abc")
    session.commit()

    inbox = me.get("/api/v1/notifications").get_json()
    assert inbox["unread"] == 1 and inbox["items"][0]["title"] == "报价待审批"
    assert smtp.messages == []  # mail leaves only from the outbox
    assert dispatch_due(session_factory, outbox_senders(smtp.url)).sent == 1
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["wang.fang@jinhua.example"]
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert "Q-2026-0042" in parsed.get_content()
    assert str(parsed["Subject"]) == "报价待审批"

    note_id = inbox["items"][0]["id"]
    assert me.post(f"/api/v1/notifications/{note_id}/read").get_json() == {"unread": 0}
    other = api_as("salesperson")
    assert other.post(f"/api/v1/notifications/{note_id}/read").status_code == 404


def test_without_smtp_or_address_only_the_in_app_notification_is_made(
    session, session_factory, make_user, api_as
):
    with_address, without = make_user("salesperson"), make_user("salesperson")
    with_address.email = "li@jinhua.example"
    session.commit()
    notify(session, [with_address.id, without.id], "合同即将到期")
    session.commit()

    report = dispatch_due(session_factory, outbox_senders(None))

    assert report.sent == 1  # recorded as skipped, not retried forever
    assert api_as(user=without).get("/api/v1/notifications").get_json()["unread"] == 1


def test_an_unreachable_smtp_server_is_retried(session, session_factory, make_user):
    user = make_user("salesperson")
    user.email = "zhao@jinhua.example"
    session.commit()
    notify(session, [user.id], "回款逾期")
    session.commit()

    report = dispatch_due(session_factory, outbox_senders("smtp://127.0.0.1:9"))

    assert report.retried == 1
