"""New and edit pages for customers and contacts, built-in fields plus the admins' custom fields.

Every save goes through crm_domain.record_service (create_record / update_record with the
version the user loaded), so the browser gets exactly the API's rules: scope, validation,
uniqueness, compare-and-swap. Errors come back next to their fields with the user's input kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import fields as mm
from marshmallow import validate
from werkzeug.datastructures import MultiDict

from core.digits import is_digits
from core.errors import Conflict, Invalid
from crm_domain import custom_fields, record_service
from crm_domain.access import Actor, actor_for
from crm_domain.collections import get_collection
from web.request_session import db
from web.ui.record_columns import code_label, column_labels
from web.ui.session_auth import signed_in_user
from web.ui.task_form import FieldView, field_views, submitted_data
from web.ui.validation_messages import translated

bp = Blueprint("ui_record_forms", __name__)

CUSTOM = "custom."
# The built-in fields each form offers, in form order. Computed or system-kept columns
# (pinyin, total_business, lifecycle bookkeeping by processes) are left out on purpose.
FORM_FIELDS = {
    "customers": (
        "name",
        "short_name",
        "kind",
        "relation",
        "grade",
        "lifecycle_stage",
        "region",
        "address",
        "phone",
        "email",
        "industry",
        "company_nature",
        "size",
        "credit_rating",
        "credit_limit",
        "cooperation_since",
        "tax_id",
        "bank_name",
        "bank_account",
        "notes",
    ),
    "contacts": (
        "name",
        "title",
        "role",
        "mobile",
        "phone",
        "email",
        "wechat",
        "is_primary",
        "notes",
    ),
}
LONG_TEXT = ("address", "notes")
# marshmallow's wording, said the way the task forms say it (and translated there).
_SCHEMA_MESSAGES = {
    "Missing data for required field.": "This field is required.",
    "Shorter than minimum length 1.": "This field is required.",
    "Field may not be null.": "This field is required.",
    "Not a valid decimal.": "Enter a number.",
    "Not a valid number.": "Enter a number.",
    "Not a valid date.": "Enter a date (YYYY-MM-DD).",
    "Must be greater than or equal to 0.": "Enter a value of at least 0.",
}


@dataclass
class FormState:
    """What the template draws: the inputs, errors no input shows, and a stale-version notice."""

    fields: list[FieldView]
    general: list[str]
    version: int | None = None
    stale: bool = False

    @property
    def built_in(self) -> list[FieldView]:
        return [f for f in self.fields if not f.name.startswith(CUSTOM)]

    @property
    def custom(self) -> list[FieldView]:
        return [f for f in self.fields if f.name.startswith(CUSTOM)]


def _messages(messages: list) -> list[str]:
    out = []
    for message in messages:
        text = str(message)
        if text.startswith("Use one of:") or text.startswith("Must be one of:"):
            text = "Choose one of the listed options."
        out.append(translated(_SCHEMA_MESSAGES.get(text, text)))
    return out


def _may_see_sensitive(actor: Actor) -> bool:
    return actor.rights.has_grant("view_sensitive")


def _built_in_names(actor: Actor, collection: str) -> tuple[str, ...]:
    """The built-in inputs shown: a field masked for this user is neither shown nor sent."""
    hidden = () if _may_see_sensitive(actor) else get_collection(collection).sensitive
    return tuple(n for n in FORM_FIELDS[collection] if n not in hidden)


def _built_in_spec(collection: str, name: str, label: str) -> dict:
    """A task-form style field spec for a schema field, so `_fields.html` can draw it."""
    schema_field = get_collection(collection).schema._declared_fields[name]
    spec: dict = {"name": name, "label": label, "required": bool(schema_field.required)}
    codes = [list(v.choices) for v in schema_field.validators if isinstance(v, validate.OneOf)]
    if codes:
        spec["type"] = "choice"
        spec["choices"] = [{"value": c, "label": code_label(name, c)} for c in codes[0]]
    elif isinstance(schema_field, mm.Boolean):
        spec["type"] = "boolean"
    elif isinstance(schema_field, mm.Decimal):
        spec["type"] = "decimal"
    elif isinstance(schema_field, mm.Date):
        spec["type"] = "date"
    elif isinstance(schema_field, mm.Email):
        spec["type"] = "email"
    else:
        spec["type"] = "long_text" if name in LONG_TEXT else "text"
    for v in schema_field.validators:
        if isinstance(v, validate.Length) and v.max:
            spec["max_length"] = v.max
    if schema_field.load_default not in (None, mm.missing_) and not callable(
        schema_field.load_default
    ):
        spec["default"] = schema_field.load_default
    return spec


def _custom_specs(actor: Actor, collection: str) -> list[dict]:
    """Active custom fields as specs named `custom.<name>`, the key their errors come under."""
    sensitive_ok = _may_see_sensitive(actor)
    specs = []
    for field in custom_fields.active_fields(db(), collection):
        if field.sensitive and not sensitive_ok:
            continue
        specs.append({**field.spec, "name": CUSTOM + field.name})
    return specs


def _definition(actor: Actor, collection: str) -> dict:
    labels = column_labels(db(), collection)
    built_in = [
        _built_in_spec(collection, n, labels.get(n, n)) for n in _built_in_names(actor, collection)
    ]
    return {"fields": [*built_in, *_custom_specs(actor, collection)]}


def _stored(collection: str, record) -> dict:
    """A saved record as the inputs show it (numbers and dates as text, custom prefixed)."""
    data = {}
    for name in FORM_FIELDS[collection]:
        value = getattr(record, name, None)
        if isinstance(value, Decimal):
            value = format(value, "f")
        elif isinstance(value, date):
            value = value.isoformat()
        data[name] = value
    data.update({CUSTOM + k: v for k, v in (record.custom or {}).items()})
    return data


def _payload(definition: dict, collection: str, posted: MultiDict) -> dict:
    """The posted form as the record service takes it: built-ins at the top, custom nested.

    A blank optional input means "no value" (None); a blank required one is sent as "" so
    the schema reports it on its field; a blank choice with a default is left to the default.
    """
    schema = get_collection(collection).schema._declared_fields
    values = submitted_data(definition, posted)
    data: dict = {}
    custom: dict = {}
    for spec in definition["fields"]:
        name, value = spec["name"], values.get(spec["name"])
        if name.startswith(CUSTOM):
            custom[name.removeprefix(CUSTOM)] = value
            continue
        if isinstance(value, str):
            value = value.strip()
        if value == "":
            if schema[name].required:
                value = ""
            elif schema[name].allow_none:
                value = None
            else:  # a blank choice keeps the default (create) or the stored value (edit)
                continue
        data[name] = value
    if custom:
        data["custom"] = custom
    return data


def _state(actor, collection, stored, posted=None, errors=None, version=None, stale=False):
    definition = _definition(actor, collection)
    errors = errors or {}
    views = field_views(definition, stored, posted, errors)
    shown = {v.name for v in views}
    general = [m for key, messages in errors.items() if key not in shown for m in messages]
    return FormState(views, general, version, stale)


def _render(collection: str, state: FormState, *, title: str, action: str, back: str, status=200):
    return render_template(
        "ui/record_form.html",
        collection=collection,
        form=state,
        title=title,
        action=action,
        back=back,
    ), status


def _actor() -> Actor:
    return actor_for(db(), signed_in_user())


def _save(actor, collection, payload, record=None, version=None):
    """Create or update; returns (record, errors, stale)."""
    session = db()
    try:
        if record is None:
            saved = record_service.create_record(session, actor, collection, payload)
        else:
            saved = record_service.update_record(
                session, actor, collection, record.id, payload, version
            )
    except Invalid as exc:
        session.rollback()
        details = {k: _messages(v) for k, v in (exc.details or {}).items()}
        return None, details or {"": [translated(exc.message)]}, False
    except Conflict as exc:
        session.rollback()
        if "current_version" in (exc.details or {}):
            return None, {}, True
        return None, {"": [translated(exc.message)]}, False
    return saved, {}, False


def _posted_version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if is_digits(raw) else None


# --- customers ------------------------------------------------------------------------------


@bp.route("/customers/new", methods=["GET", "POST"])
@login_required
def new_customer():
    actor = _actor()
    action = url_for("ui_record_forms.new_customer")
    back = url_for("ui_lists.customers")
    title = _("New customer")
    if request.method == "GET":
        return _render(
            "customers", _state(actor, "customers", {}), title=title, action=action, back=back
        )
    definition = _definition(actor, "customers")
    payload = _payload(definition, "customers", request.form)
    saved, errors, _stale = _save(actor, "customers", payload)
    if saved is None:
        state = _state(actor, "customers", {}, request.form, errors)
        return _render("customers", state, title=title, action=action, back=back, status=422)
    flash(_("Customer saved."), "success")
    return redirect(url_for("ui_customers.customer_page", customer_id=saved.id))


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_customer(customer_id: int):
    actor = _actor()
    customer = record_service.get_record(db(), actor, "customers", customer_id, "update")
    action = url_for("ui_record_forms.edit_customer", customer_id=customer.id)
    back = url_for("ui_customers.customer_page", customer_id=customer.id)
    title = _("Edit customer %(name)s", name=customer.name)
    return _edit("customers", actor, customer, title, action, back)


# --- contacts ---------------------------------------------------------------------------------


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
@login_required
def new_contact(customer_id: int):
    actor = _actor()
    customer = record_service.get_record(db(), actor, "customers", customer_id)
    action = url_for("ui_record_forms.new_contact", customer_id=customer.id)
    back = url_for("ui_customers.customer_page", customer_id=customer.id)
    title = _("New contact of %(name)s", name=customer.name)
    if request.method == "GET":
        return _render(
            "contacts", _state(actor, "contacts", {}), title=title, action=action, back=back
        )
    definition = _definition(actor, "contacts")
    payload = _payload(definition, "contacts", request.form)
    payload["customer_id"] = customer.id  # preset by the page, not an input
    saved, errors, _stale = _save(actor, "contacts", payload)
    if saved is None:
        state = _state(actor, "contacts", {}, request.form, errors)
        return _render("contacts", state, title=title, action=action, back=back, status=422)
    flash(_("Contact saved."), "success")
    return redirect(back)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def edit_contact(contact_id: int):
    actor = _actor()
    contact = record_service.get_record(db(), actor, "contacts", contact_id, "update")
    action = url_for("ui_record_forms.edit_contact", contact_id=contact.id)
    back = url_for("ui_customers.customer_page", customer_id=contact.customer_id)
    title = _("Edit contact %(name)s", name=contact.name)
    return _edit("contacts", actor, contact, title, action, back)


def _edit(collection: str, actor: Actor, record, title: str, action: str, back: str):
    """The edit page (GET) or its save (POST) against the version the user loaded."""
    if request.method == "GET":
        state = _state(actor, collection, _stored(collection, record), version=record.version)
        return _render(collection, state, title=title, action=action, back=back)
    version = _posted_version()
    definition = _definition(actor, collection)
    payload = _payload(definition, collection, request.form)
    saved, errors, stale = _save(actor, collection, payload, record, version)
    if saved is None:
        # The loaded version stays in the form: saving again cannot overwrite the other change.
        state = _state(actor, collection, {}, request.form, errors, version, stale)
        return _render(
            collection, state, title=title, action=action, back=back, status=409 if stale else 422
        )
    flash(_("Saved."), "success")
    return redirect(back)
