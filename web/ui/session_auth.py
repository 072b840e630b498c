"""Browser sign-in with flask-login: a session cookie (plus an optional "remember me" cookie).

The REST API keeps its bearer tokens (web/auth.py); both put the signed-in user in `g.user`
so the same services and `web.auth.current_user()` work for either.
The session id carries a fingerprint of the password hash: changing the password signs out
every other browser, including remembered ones.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from core.digits import as_id
from crm_domain.users import User
from web.request_session import db

REMEMBER_FOR = timedelta(days=14)


class StaffLogin(UserMixin):
    """flask-login's view of a Weft user (crm_domain stays free of Flask)."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.password_hash[-16:]}"

    @property
    def is_active(self) -> bool:
        return self.user.is_active


def _load(session_id: str) -> StaffLogin | None:
    user_id, _, fingerprint = session_id.partition(":")
    if as_id(user_id) is None:
        return None
    user = db().get(User, int(user_id))
    if user is None or not user.is_active or user.password_hash[-16:] != fingerprint:
        return None
    return StaffLogin(user)


def signed_in_user() -> User | None:
    return current_user.user if current_user.is_authenticated else None


def init_session_auth(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_DURATION", REMEMBER_FOR)
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    manager = LoginManager(app)
    manager.user_loader(_load)
    # No "session protection": Weft asks nobody for a fresh sign-in, so flask-login's "basic"
    # mode only rewrote the cookie of a signed-out session on its first request after the
    # sign-in page (the browser's own /favicon.ico). Answered just after the sign-in, that
    # anonymous cookie replaced the signed-in one and the user was back on the sign-in page.
    manager.session_protection = None

    @manager.unauthorized_handler
    def _to_login():
        if request.headers.get("HX-Request"):
            # htmx follows this header with a full page load instead of swapping a login form in.
            return "", 401, {"HX-Redirect": url_for("ui_auth.login", next=request.full_path)}
        return redirect(url_for("ui_auth.login", next=request.full_path))

    @app.before_request
    def _user_in_g():
        if request.path.startswith("/api/") or request.path.startswith("/static/"):
            return
        user = signed_in_user()
        if user is not None:
            g.user = user
