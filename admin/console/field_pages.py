"""Custom fields per collection, with a live preview of the form as the administrator types.

The preview (htmx) draws the collection's extra fields, the one being edited included, with the
same `ui/_fields.html` inputs staff see on their forms.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from admin.console.field_form import EMPTY, form_values, spec_from, values_from
from admin.console.guard import console_actor
from admin.console.rendering import field_errors, render_console
from core.errors import Conflict, Invalid, NotFound
from crm_domain import custom_fields
from crm_domain.collections import COLLECTIONS
from forms.definitions import FIELD_TYPES, validate_form_definition
from web.request_session import db
from web.ui.i18n import localized
from web.ui.task_form import field_views

bp = Blueprint("console_fields", __name__, url_prefix="/admin/fields")
RIGHT = "manage_fields"


def _collection() -> str:
    name = request.args.get("collection", "customers")
    if name not in COLLECTIONS:
        abort(404)
    return name


def _collections() -> list[tuple[str, str]]:
    return [(name, localized(c.label)) for name, c in COLLECTIONS.items()]


def _field_or_404(field_id: int) -> custom_fields.CustomField:
    try:
        return custom_fields.get_field(db(), field_id)
    except NotFound:
        abort(404)


def _preview(collection: str, draft: dict | None, editing_id: int | None) -> dict:
    """The fields the form would show, with the draft in place (or appended), and the draft's
    problems; an invalid draft is left out of the drawing but its problems are listed."""
    specs = [f.spec for f in custom_fields.active_fields(db(), collection) if f.id != editing_id]
    problems: dict[str, list[str]] = {}
    if draft is not None and (draft.get("name") or draft.get("label")):
        try:
            checked = validate_form_definition({"key": "p", "title": "p", "fields": [draft]})
        except Invalid as exc:
            problems = field_errors(
                Invalid(
                    exc.message,
                    {k.removeprefix("fields.0."): v for k, v in (exc.details or {}).items()},
                )
            )
        else:
            specs.append(checked["fields"][0])
    return {"preview_fields": field_views({"fields": specs}, {}), "preview_problems": problems}


def _page(actor, collection: str, values: dict, field=None, errors=None, status: int = 200):
    draft = spec_from(values) if values.get("name") or field is not None else None
    return render_console(
        "admin/fields.html",
        actor,
        status,
        collection=collection,
        collection_label=localized(COLLECTIONS[collection].label),
        collections=_collections(),
        rows=custom_fields.list_fields(db(), collection),
        field_types=FIELD_TYPES,
        values=values,
        editing=field,
        errors=errors or {},
        **_preview(collection, draft, field.id if field else None),
    )


@bp.get("")
@login_required
def fields():
    actor = console_actor(RIGHT)
    return _page(actor, _collection(), dict(EMPTY))


@bp.post("/preview")
@login_required
def preview():
    console_actor(RIGHT)
    collection = _collection()
    editing = request.args.get("field_id", type=int)
    values = form_values(request.form)
    if editing is not None:  # the name input of a saved field is disabled, so not posted
        values["name"] = _field_or_404(editing).name
    draft = spec_from(values)
    return render_template(
        "admin/_field_preview.html",
        collection_label=localized(COLLECTIONS[collection].label),
        **_preview(collection, draft, editing),
    )


@bp.post("")
@login_required
def define_field():
    actor = console_actor(RIGHT)
    collection = _collection()
    values = form_values(request.form)
    try:
        field = custom_fields.define_field(
            db(), collection, spec_from(values), values["sensitive"], actor=actor
        )
    except (Invalid, Conflict) as exc:
        return _page(actor, collection, values, errors=field_errors(exc), status=exc.status)
    flash(_("Field “%(name)s” added.", name=field.name), "success")
    return redirect(url_for(".fields", collection=collection))


@bp.get("/<int:field_id>")
@login_required
def edit_field(field_id: int):
    actor = console_actor(RIGHT)
    field = _field_or_404(field_id)
    return _page(actor, field.collection, values_from(field.spec, field.sensitive), field)


@bp.post("/<int:field_id>")
@login_required
def change_field(field_id: int):
    actor = console_actor(RIGHT)
    field = _field_or_404(field_id)
    values = {**form_values(request.form), "name": field.name}
    try:
        custom_fields.change_field(
            db(), field_id, spec_from(values), values["sensitive"], actor=actor
        )
    except Invalid as exc:
        return _page(actor, field.collection, values, field, field_errors(exc), exc.status)
    flash(_("Field “%(name)s” saved.", name=field.name), "success")
    return redirect(url_for(".fields", collection=field.collection))


@bp.post("/<int:field_id>/archive")
@login_required
def archive_field(field_id: int):
    actor = console_actor(RIGHT)
    field = _field_or_404(field_id)
    custom_fields.archive_field(db(), field_id, actor=actor)
    flash(_("Field “%(name)s” removed; stored values are kept.", name=field.name), "success")
    return redirect(url_for(".fields", collection=field.collection))
