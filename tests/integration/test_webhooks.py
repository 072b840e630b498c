"""Webhooks: queued with the change, signed, sent after commit, retried, logged per endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import clock
from crm_domain.outbox import MAX_ATTEMPTS, dispatch_due
from crm_domain.webhooks import SENDERS


class Receiver:
    """A real HTTP server on localhost that records what it is sent and answers `status`."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/weft"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def admin(api_as):
    return api_as("admin")


def subscribe(admin, url, events):
    response = admin.post("/api/v1/admin/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_record_event_is_signed_and_delivered_after_commit(admin, receiver, session_factory):
    hook = subscribe(admin, receiver.url, ["customers.*"])
    created = admin.post("/api/v1/customers", json={"name": "常熟恒丰服饰", "tax_id": None})
    assert created.status_code == 201
    assert receiver.received == []  # nothing leaves during the request

    report = dispatch_due(session_factory, SENDERS)

    assert report.sent == 1
    [delivery] = receiver.received
    body = delivery["body"]
    expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert delivery["headers"]["X-Weft-Signature"] == expected
    assert delivery["headers"]["X-Weft-Event"] == "customers.created"
    payload = json.loads(body)
    assert payload["data"]["name"] == "常熟恒丰服饰"
    assert payload["data"]["id"] == created.get_json()["id"]
    log = admin.get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert log[0]["status"] == "sent" and log[0]["attempts"][0]["status_code"] == 204
    # Sent once: a second run finds nothing due.
    assert dispatch_due(session_factory, SENDERS).sent == 0


def test_unsubscribed_events_and_refused_changes_send_nothing(admin, receiver, session_factory):
    subscribe(admin, receiver.url, ["orders.*"])
    admin.post("/api/v1/customers", json={"name": "甲"})
    assert admin.post("/api/v1/customers", json={"name": ""}).status_code == 422
    subscribe(admin, receiver.url, ["customers.updated"])
    assert admin.post("/api/v1/customers", json={"name": ""}).status_code == 422

    assert dispatch_due(session_factory, SENDERS).sent == 0
    assert receiver.received == []


def test_failures_are_retried_with_backoff_then_given_up(admin, receiver, session_factory):
    hook = subscribe(admin, receiver.url, ["customers.created"])
    receiver.status = 500
    admin.post("/api/v1/customers", json={"name": "乙"})
    start = clock.now()

    first = dispatch_due(session_factory, SENDERS, start)
    assert first.retried == 1
    assert dispatch_due(session_factory, SENDERS, start + timedelta(seconds=10)).retried == 0
    assert dispatch_due(session_factory, SENDERS, start + timedelta(seconds=31)).retried == 1
    moment = start + timedelta(seconds=31)
    for _ in range(MAX_ATTEMPTS - 2):
        moment += timedelta(hours=7)
        dispatch_due(session_factory, SENDERS, moment)

    log = admin.get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert log[0]["status"] == "dead"
    assert len(log[0]["attempts"]) == MAX_ATTEMPTS
    assert log[0]["attempts"][0]["status_code"] == 500
    assert len(receiver.received) == MAX_ATTEMPTS


def test_an_unreachable_receiver_is_logged_not_raised(admin, session_factory):
    hook = subscribe(admin, "http://127.0.0.1:9/nothing-listens", ["customers.created"])
    admin.post("/api/v1/customers", json={"name": "丙"})

    assert dispatch_due(session_factory, SENDERS).retried == 1

    log = admin.get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries").get_json()["items"]
    assert log[0]["status"] == "pending" and "Error" in log[0]["last_error"]


def test_webhook_configuration_is_validated_and_admin_only(admin, api_as):
    bad = admin.post("/api/v1/admin/webhooks", json={"url": "ftp://x", "events": []})
    assert bad.status_code == 422
    assert {"url", "events"} <= set(bad.get_json()["error"]["details"])
    manager = api_as("sales_manager")
    denied = manager.post(
        "/api/v1/admin/webhooks", json={"url": "https://erp.example.com/h", "events": ["x"]}
    )
    assert denied.status_code == 403
