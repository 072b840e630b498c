"""Record lists in the browser: customers, opportunities, quotes, contracts, orders,
receivables, service requests — search, filter, sort, paging and CSV/XLSX export.

Every list goes through `record_service.list_records` and every export through
`exchange.exporting.prepare_export`: the data scope, `q`, filters and sort keys are the API's,
applied in SQL, so the page, `/api/v1/<collection>` and the export always show the same rows.
"""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core.digits import as_id
from core.errors import Forbidden, Invalid
from crm_domain import record_service
from crm_domain.access import Actor, actor_for
from crm_domain.collections import get_collection
from crm_domain.exchange.exporting import csv_chunks, prepare_export, xlsx_file
from web.request_session import db
from web.ui.i18n import is_chinese
from web.ui.nav import add_nav_item
from web.ui.record_columns import (
    LIST_TITLES,
    LISTED,
    LISTS,
    code_label,
    column_labels,
    filter_choices,
)
from web.ui.session_auth import signed_in_user
from web.ui.validation_messages import translated

bp = Blueprint("ui_lists", __name__)
COLLECTION = "<any(" + ", ".join(f'"{name}"' for name in LISTED) + "):collection>"
PER_PAGE = 25
NOT_FILTERS = ("q", "sort", "page", "format")  # every other argument is an API filter
# Foreign keys shown as the record they name: (collection, column shown).
REFERENCES = {"customer_id": ("customers", "name"), "order_id": ("orders", "order_no")}

add_nav_item(_l("Customers"), "ui_lists.customers", order=20)
add_nav_item(_l("Sales & service"), "ui_lists.sales_and_service", order=25)


def _filters_from(args) -> dict[str, str]:
    return {k: v for k, v in args.items() if k not in NOT_FILTERS and v.strip() != ""}


def _referenced(actor: Actor, rows: list, field: str) -> dict[int, str]:
    """Names of the records a page's rows point at, read within the actor's scope."""
    target, shown = REFERENCES[field]
    ids = {getattr(row, field) for row in rows if getattr(row, field, None) is not None}
    if not ids:
        return {}
    collection = get_collection(target)
    try:
        stmt = record_service.scoped_select(actor, collection).where(collection.model.id.in_(ids))
    except Forbidden:
        return {}
    return {record.id: getattr(record, shown) for record in db().scalars(stmt)}


def _cells(actor: Actor, collection: str, rows: list) -> list[dict]:
    """Each row's shown values; sensitive fields come masked from `to_dicts`, as in the API."""
    spec = LISTS[collection]
    masked = record_service.to_dicts(db(), actor, collection, rows)
    sensitive = set(get_collection(collection).sensitive)
    names = {
        field: _referenced(actor, rows, field) for field in REFERENCES if field in spec.columns
    }
    result = []
    for row, body in zip(rows, masked, strict=True):
        cells = {}
        for field in spec.columns:
            raw = body.get(field) if field in sensitive else getattr(row, field, None)
            if field in names:
                cells[field] = {"ref": raw, "text": names[field].get(raw) or (raw and f"#{raw}")}
            elif field in spec.filters or field == "status":
                cells[field] = {"text": code_label(field, raw)}
            elif isinstance(raw, date):  # dates and datetimes, in the reader's format
                cells[field] = {"when": raw}
            else:
                cells[field] = {"value": raw, "money": field in spec.money}
        result.append({"id": row.id, "cells": cells, "currency": getattr(row, "currency", None)})
    return result


def _page_number() -> int:
    page = request.args.get("page", "1")
    return as_id(page) or 1  # a page number, within what an OFFSET holds


@bp.get(f"/{COLLECTION}")
@login_required
def record_list(collection: str):
    session = db()
    actor = actor_for(session, signed_in_user())
    spec = LISTS[collection]
    q = request.args.get("q", "").strip()
    sort = request.args.get("sort") or spec.sorts[0]
    filters = _filters_from(request.args)
    page = _page_number()
    errors: dict[str, list[str]] = {}
    rows, total = [], 0
    try:
        rows, total = record_service.list_records(
            session,
            actor,
            collection,
            q=q,
            filters=filters,
            sort=sort,
            page=page,
            per_page=PER_PAGE,
        )
    except Invalid as exc:
        errors = {key: [translated(m) for m in messages] for key, messages in exc.details.items()}
    context = {
        "collection": collection,
        "title": LIST_TITLES[collection],
        "lists": [(name, LIST_TITLES[name]) for name in LISTED],
        "spec": spec,
        "labels": column_labels(db(), collection),
        "choices": {f: filter_choices(collection, f) for f in spec.filters},
        "code_label": code_label,
        "q": q,
        "sort": sort,
        "filters": filters,
        "rows": _cells(actor, collection, rows),
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PER_PAGE)),
        "errors": errors,
        "may_export": actor.rights.has_grant("export"),
        "args": {k: v for k, v in request.args.items() if k != "page"},
        "export_args": {k: v for k, v in request.args.items() if k not in NOT_FILTERS or k == "q"},
    }
    status = 400 if errors else 200
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "record-list":
        return render_template("ui/_record_table.html", **context), status
    return render_template("ui/record_list.html", **context), status


@bp.get("/customers", endpoint="customers")
@login_required
def customers():
    return record_list("customers")


@bp.get("/records", endpoint="sales_and_service")
@login_required
def sales_and_service():
    return record_list("opportunities")


@bp.get(f"/{COLLECTION}/export")
@login_required
def export_list(collection: str):
    """The list's rows (same q, filters, scope) as a CSV or XLSX download."""
    session = db()
    actor = actor_for(session, signed_in_user())
    try:
        export = prepare_export(
            session,
            actor,
            collection,
            format=request.args.get("format", "csv").lower(),
            language="zh" if is_chinese() else "en",
            q=request.args.get("q"),
            filters=_filters_from(request.args),
        )
    except Forbidden:
        return render_template(
            "ui/error.html", status=403, message=_("Exporting needs the export permission.")
        ), 403
    except Invalid as exc:
        details = "; ".join(
            f"{key}: {' '.join(translated(m) for m in messages)}"
            for key, messages in (exc.details or {}).items()
        )
        return render_template(
            "ui/error.html", status=400, message=_("The export could not be made.") + " " + details
        ), 400
    if export.format == "xlsx":
        return send_file(
            xlsx_file(export, session),
            mimetype=export.media_type,
            as_attachment=True,
            download_name=export.filename,
        )
    factory = current_app.extensions["weft"].session_factory

    def stream():
        # Runs after the request's session has committed and closed: a session of its own.
        own = factory()
        try:
            yield from csv_chunks(export, own)
        finally:
            own.close()

    return Response(
        stream(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )
