"""Signing in sticks even when the answer to a request sent before it arrives afterwards.

The browser sends the session cookie it holds when a request leaves and stores any cookie an
answer sets when the answer arrives. Its own /favicon.ico request leaves right after the
sign-in page has loaded, so on a busy server (SQLite runs one transaction at a time) it can be
answered just after the sign-in: an anonymous answer that sets the session cookie then puts the
user back on the sign-in page. Anonymous requests must leave the session cookie alone.
"""

from __future__ import annotations

import threading

import pytest

from crm_domain.users import create_user
from tests.web.conftest import PASSWORD, csrf_of


@pytest.mark.parametrize(
    "late_request", ["/favicon.ico", "/login"], ids=["favicon", "sign-in page in another tab"]
)
def test_an_anonymous_answer_arriving_after_sign_in_does_not_sign_the_user_out(
    app, make_user, late_request
):
    user = make_user("salesperson", password=PASSWORD)
    browser = app.test_client()
    login_page = browser.get("/login")
    cookie_before_sign_in = browser.get_cookie("session").value
    sent_earlier = app.test_client()  # the same browser's request, sent before signing in
    sent_earlier.set_cookie("session", cookie_before_sign_in)

    signed_in = browser.post(
        "/login",
        data={
            "csrf_token": csrf_of(login_page.text),
            "username": user.username,
            "password": PASSWORD,
        },
    )
    assert signed_in.status_code == 302
    sent_earlier.get(late_request)  # ... answered only now
    answered_cookie = sent_earlier.get_cookie("session").value
    if answered_cookie != cookie_before_sign_in:  # the browser stores what the answer set
        browser.set_cookie("session", answered_cookie)

    inbox = browser.get("/inbox")
    assert inbox.status_code == 200, inbox.headers.get("Location")


class HeldFavicons:
    """WSGI middleware: /favicon.ico requests wait until released, as on a busy server."""

    MARK = "sent-before-sign-in"

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.marked_arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/favicon.ico":
            if environ.get("QUERY_STRING") == self.MARK:
                self.marked_arrived.set()
            self.release.wait(timeout=30)
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def held_favicons(live_app):
    held = HeldFavicons(live_app.wsgi_app)
    live_app.wsgi_app = held
    yield held
    held.release.set()


def test_signing_in_sticks_in_chromium_when_a_favicon_is_answered_late(
    browser, live_server, committed_factory, held_favicons
):
    with committed_factory() as session:
        create_user(session, "chen.jing", PASSWORD, ["salesperson"], "陈静")
        session.commit()
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/login")
        # Another tab of the same browser asks for the favicon with the pre-sign-in cookie
        # (every favicon, this page's own too, is held until the sign-in is through).
        other_tab = context.new_page()
        other_tab.goto(f"{live_server}/static/weft.css")
        other_tab.evaluate(
            "(url) => { window.answered = fetch(url, {cache: 'no-store'}).then(r => r.status); }",
            f"/favicon.ico?{HeldFavicons.MARK}",
        )
        assert held_favicons.marked_arrived.wait(timeout=10)

        page.fill("input[name=username]", "chen.jing")
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_url("**/inbox")
        held_favicons.release.set()
        assert other_tab.evaluate("() => window.answered") == 404

        page.goto(f"{live_server}/inbox")
        assert page.url == f"{live_server}/inbox"
        assert page.locator("[data-testid=user-menu]").inner_text() == "陈静"
    finally:
        held_favicons.release.set()
        context.close()
