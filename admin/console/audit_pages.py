"""The searchable admin audit log: who changed what in the system, when, before and after."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from admin.console.guard import ADMIN_ONLY, console_actor
from admin.console.rendering import render_console
from crm_domain.admin_audit import AdminChange, AuditQuery, search_admin_changes
from web.request_session import db

bp = Blueprint("console_audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50


def _day(text: str) -> datetime | None:
    return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC) if text else None


@bp.get("", endpoint="audit_log")
@login_required
def audit_log_page():
    actor = console_actor(ADMIN_ONLY)
    args = request.args
    filters = {key: args.get(key, "").strip() for key in ("actor", "kind", "since", "until", "q")}
    errors: dict[str, list[str]] = {}
    bounds = {}
    for key in ("since", "until"):
        try:
            bounds[key] = _day(filters[key])
        except ValueError:
            errors[key] = [_("Give a date as YYYY-MM-DD.")]
            bounds[key] = None
    page = max(args.get("page", 1, type=int) or 1, 1)
    rows, total = search_admin_changes(
        db(),
        AuditQuery(
            actor=filters["actor"] or None,
            kind=filters["kind"] or None,
            since=bounds["since"],
            until=bounds["until"],
            text=filters["q"] or None,
            page=page,
            per_page=PER_PAGE,
        ),
    )
    kinds = sorted(db().scalars(select(AdminChange.kind).distinct()))
    return render_console(
        "admin/audit.html",
        actor,
        422 if errors else 200,
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        filters=filters,
        kinds=kinds,
        errors=errors,
    )
