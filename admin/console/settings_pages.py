"""System settings: decimals, reminder lead days, working calendar, SMTP, default language.

Needs the `manage_settings` grant. All or nothing, as `update_settings` is: one bad value and
nothing changes, with the message under that setting. Effective on every worker's next request.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from admin.console.guard import console_actor
from admin.console.rendering import field_errors, render_console
from core.digits import is_digits
from core.errors import Invalid
from crm_domain import settings
from web.request_session import db
from web.ui.i18n import is_chinese

bp = Blueprint("console_settings", __name__, url_prefix="/admin/settings")
RIGHT = "manage_settings"
CHOICES = {
    "calendar.holiday_country": settings.HOLIDAY_COUNTRIES,
    "ui.default_language": settings.LANGUAGES,
}
_DATE_SEPARATORS = re.compile(r"[\s,，;；]+")


def _posted_value(row: dict, posted: MultiDict):
    """One setting's input as the value `update_settings` checks; `...` when left unchanged."""
    key, kind = row["key"], row["kind"]
    if posted.get(f"reset.{key}") == "on":
        return None
    if kind == "weekdays":
        return [int(day) for day in posted.getlist(key) if is_digits(day)]
    if kind == "hours":
        return {"start": posted.get(f"{key}.start", ""), "end": posted.get(f"{key}.end", "")}
    if kind == "dates":
        return [part for part in _DATE_SEPARATORS.split(posted.get(key, "")) if part]
    raw = posted.get(key, "").strip()
    if kind == "integer":
        return int(raw) if is_digits(raw.lstrip("-")) else raw
    if kind == "url":
        if raw == (row["value"] or ""):  # the masked password came back untouched
            return ...
        return raw or None
    return raw


def _page(actor, errors=None, status: int = 200):
    rows = settings.describe_settings(db())
    for row in rows:
        row["label_text"] = row["label"]["zh-CN" if is_chinese() else "en"]
    return render_console(
        "admin/settings.html",
        actor,
        status,
        rows=rows,
        choices=CHOICES,
        weekdays=[
            (1, _("Mon")),
            (2, _("Tue")),
            (3, _("Wed")),
            (4, _("Thu")),
            (5, _("Fri")),
            (6, _("Sat")),
            (7, _("Sun")),
        ],
        errors=errors or {},
    )


@bp.get("", endpoint="settings")
@login_required
def settings_page():
    return _page(console_actor(RIGHT))


@bp.post("")
@login_required
def save_settings():
    actor = console_actor(RIGHT)
    changes = {}
    for row in settings.describe_settings(db()):
        value = _posted_value(row, request.form)
        if value is not ... and value != row["value"]:
            changes[row["key"]] = value
    if not changes:
        flash(_("Nothing changed."), "info")
        return redirect(url_for(".settings"))
    try:
        settings.update_settings(db(), actor, changes)
    except Invalid as exc:
        return _page(actor, field_errors(exc), exc.status)
    flash(_("Settings saved; they apply from the next request everywhere."), "success")
    return redirect(url_for(".settings"))
