"""CSRF protection for every browser form: a per-session token, checked on each unsafe request.

The REST API (`/api/...`) is exempt: it authenticates with a bearer header, which a foreign
page cannot make a browser send. Forms post the token as `csrf_token`; htmx sends it in the
`X-CSRF-Token` header (set once on <body hx-headers>).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, render_template, request, session
from flask_babel import gettext as _

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def csrf_token() -> str:
    token = session.get(FIELD)
    if not token:
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def _sent_token() -> str:
    return request.form.get(FIELD) or request.headers.get(HEADER) or ""


def init_csrf(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf():
        if request.method in SAFE_METHODS or request.path.startswith("/api/"):
            return None
        expected = session.get(FIELD)
        if not expected or not hmac.compare_digest(expected, _sent_token()):
            # A page left open across a restart or a logout: say so plainly, never a bare 400.
            message = _("This form has expired. Go back, reload the page and try again.")
            return render_template("ui/error.html", status=400, message=message), 400
        return None
