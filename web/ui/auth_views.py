"""Sign in, sign out, change password, switch language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from core.security import hash_password, verify_password
from crm_domain.users import authenticate
from web.request_session import db
from web.ui import login_guard
from web.ui.i18n import LANGUAGE_COOKIE, LOCALES, when
from web.ui.passwords import password_problems
from web.ui.session_auth import StaffLogin, signed_in_user

bp = Blueprint("ui_auth", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never send a user off-site after signing in."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    inbox = url_for("ui_inbox.inbox")
    if request.method == "GET":
        if signed_in_user() is not None:
            return redirect(safe_next(request.args.get("next"), inbox))
        return render_template("ui/login.html", next=request.args.get("next", ""))
    session_db = db()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    remember = request.form.get("remember") == "on"
    next_url = request.form.get("next", "")

    def again(message: str, status: int):
        page = render_template("ui/login.html", error=message, username=username, next=next_url)
        return page, status

    if not username or not password:
        return again(_("Enter your username and password."), 400)
    locked = login_guard.locked_until(session_db, username)
    if locked is not None:
        return again(
            _("Too many failed sign-ins. Try again after %(time)s.", time=when(locked, "short")),
            429,
        )
    user = authenticate(session_db, username, password)
    if user is None:
        locked = login_guard.record_failure(session_db, username)
        session_db.commit()  # the count must survive the error response's rollback
        if locked is not None:
            message = _(
                "Too many failed sign-ins. Try again after %(time)s.", time=when(locked, "short")
            )
            return again(message, 429)
        return again(_("Wrong username or password."), 401)
    login_guard.clear_failures(session_db, username)
    lang = session.get("lang")
    session.clear()  # a fresh session on sign-in (no fixation); keep the language choice
    if lang:
        session["lang"] = lang
    login_user(StaffLogin(user), remember=remember, duration=None)
    return redirect(safe_next(next_url, inbox))


@bp.post("/logout")
def logout():
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("ui_auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    user = signed_in_user()
    if request.method == "GET":
        return render_template("ui/password.html")
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    errors: dict[str, list[str]] = {}
    if not verify_password(user.password_hash, current):
        errors["current_password"] = [_("Your current password is not right.")]
    problems = password_problems(user, new, request.form.get("confirm_password", ""))
    if problems:
        errors["new_password"] = problems
    if errors:
        return render_template("ui/password.html", errors=errors), 422
    user.password_hash = hash_password(new)
    db().flush()
    # The session id includes the password fingerprint: renew ours, others are now signed out.
    login_user(StaffLogin(user))
    flash(_("Your password has been changed."), "success")
    return redirect(url_for("ui_inbox.inbox"))


@bp.post("/language")
def switch_language():
    lang = request.form.get("lang", "")
    if lang not in LOCALES:
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    session["lang"] = lang
    response = make_response(
        redirect(safe_next(request.form.get("next"), url_for("ui_inbox.inbox")))
    )
    response.set_cookie(
        LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax"
    )
    return response
