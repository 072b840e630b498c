"""The customer 360 page: profile and custom fields, contacts, the whole story, open tasks and
processes, logging a contact (inline, htmx) and starting a process about the customer."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.digits import is_digits
from core.errors import Forbidden, Invalid, NotFound
from crm_domain import custom_fields, record_service
from crm_domain.access import Actor, actor_for
from crm_domain.exchange.columns import exchange_format
from crm_domain.interactions import CHANNELS, DIRECTIONS
from engine.definitions import list_current
from engine.instances import start_instance
from web.request_session import db
from web.ui.customer_story import SUBJECT_TYPE, customer_story
from web.ui.i18n import is_chinese, localized
from web.ui.process_labels import status_label
from web.ui.record_columns import code_label
from web.ui.session_auth import signed_in_user
from web.ui.validation_messages import translated

bp = Blueprint("ui_customers", __name__, url_prefix="/customers")

PROFILE_FIELDS = (
    "short_name",
    "kind",
    "relation",
    "industry",
    "region",
    "address",
    "phone",
    "email",
    "credit_rating",
    "credit_limit",
    "total_business",
    "cooperation_since",
    "bank_name",
    "bank_account",
    "tax_id",
    "tags",
    "notes",
)
CODED = ("kind", "relation", "credit_rating", "lifecycle_stage", "grade")
MONEY = ("credit_limit", "total_business")
# marshmallow's wording for the two mistakes people make in this form, in the house style.
_SCHEMA_MESSAGES = {
    "Missing data for required field.": "This field is required.",
    "Shorter than minimum length 1.": "This field is required.",
}


def _messages(messages: list[str]) -> list[str]:
    out = []
    for message in messages:
        if message.startswith("Must be one of:"):
            message = "Choose one of the listed options."
        out.append(translated(_SCHEMA_MESSAGES.get(message, message)))
    return out


def _profile(actor: Actor, customer) -> tuple[dict, list[dict], list[dict]]:
    """(the customer as the API shows it, built-in rows, custom rows): masked without the grant."""
    session = db()
    fields = custom_fields.active_fields(session, "customers")
    body = record_service.to_dict(session, actor, "customers", customer, fields)
    lang = "zh" if is_chinese() else "en"
    labels = {
        c.name: c.label.get(lang) or c.label.get("en") or c.name
        for c in exchange_format(session, "customers").columns
    }
    masked = set(record_service.get_collection("customers").sensitive)
    sensitive_ok = actor.rights.has_grant("view_sensitive")
    built_in = []
    for name in PROFILE_FIELDS:
        value = body.get(name) if name in masked else getattr(customer, name, None)
        if value in (None, "", []):
            continue
        row = {"name": name, "label": labels.get(name, name), "value": value}
        if name in CODED:
            row["value"] = code_label(name, value)
        elif name in MONEY:
            row["money"] = True
        elif name == "tags":
            row["value"] = "、".join(map(str, value)) if is_chinese() else ", ".join(value)
        elif name == "cooperation_since":
            row["when"] = True
        row["masked"] = name in masked and not sensitive_ok
        built_in.append(row)
    custom = []
    for spec_row in fields:
        value = body["custom"].get(spec_row.name)
        spec = spec_row.spec
        options = {c["value"]: localized(c.get("label")) for c in spec.get("choices", [])}
        if isinstance(value, list):
            shown = "、".join(str(options.get(v, v)) for v in value)
        elif isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        else:
            shown = options.get(value, value) if value is not None else None
        custom.append(
            {
                "name": spec_row.name,
                "label": localized(spec.get("label")) or spec_row.name,
                "value": shown,
                "masked": spec_row.sensitive and not sensitive_ok,
            }
        )
    return body, built_in, custom


def _contacts(actor: Actor, customer_id: int) -> list:
    try:
        rows, _total = record_service.list_records(
            db(), actor, "contacts", filters={"customer_id": str(customer_id)}, sort="name"
        )
    except Forbidden:
        return []
    return sorted(rows, key=lambda c: not c.is_primary)


def _startable() -> list[tuple[str, str]]:
    return [(d.key, d.name or d.key) for d, _latest in list_current(db())]


def _interaction_context(customer, contacts, values=None, errors=None, saved=False) -> dict:
    return {
        "customer": customer,
        "contacts": contacts,
        "channels": CHANNELS,
        "directions": DIRECTIONS,
        "values": values or {"channel": "phone", "direction": "outbound"},
        "errors": errors or {},
        "saved": saved,
        "code_label": code_label,
    }


def _page(actor: Actor, customer, form: dict | None = None, status: int = 200):
    session = db()
    body, built_in, custom = _profile(actor, customer)
    contacts = _contacts(actor, customer.id)
    story = customer_story(session, actor, customer.id)
    context = _interaction_context(customer, contacts, **(form or {}))
    return render_template(
        "ui/customer.html",
        body=body,
        profile=built_in,
        custom=custom,
        story=story,
        processes=_startable(),
        status_label=status_label,
        **context,
    ), status


@bp.get("/<int:customer_id>")
@login_required
def customer_page(customer_id: int):
    session = db()
    actor = actor_for(session, signed_in_user())
    return _page(actor, record_service.get_record(session, actor, "customers", customer_id))


@bp.post("/<int:customer_id>/interactions")
@login_required
def log_interaction(customer_id: int):
    """Save a contact with the customer; errors come back next to their fields."""
    session = db()
    actor = actor_for(session, signed_in_user())
    customer = record_service.get_record(session, actor, "customers", customer_id)
    form = request.form
    values = {
        "channel": form.get("channel", ""),
        "direction": form.get("direction", ""),
        "summary": form.get("summary", "").strip(),
        "contact_id": form.get("contact_id", ""),
    }
    data: dict = {"customer_id": customer.id, "channel": values["channel"]}
    if values["direction"]:
        data["direction"] = values["direction"]
    if values["summary"]:
        data["summary"] = values["summary"]
    if is_digits(values["contact_id"]):
        data["contact_id"] = int(values["contact_id"])
    errors: dict[str, list[str]] = {}
    try:
        record_service.create_record(session, actor, "interactions", data)
    except Invalid as exc:
        errors = {key: _messages(messages) for key, messages in (exc.details or {}).items()}
        if not errors:
            errors = {"": [translated(exc.message)]}
    except Forbidden:
        errors = {"": [_("You may not log interactions for this customer.")]}
    htmx = request.headers.get("HX-Request") and request.headers.get("HX-Target") == "story"
    if errors:
        session.rollback()  # nothing half-made may be committed with the 200 answer below
        if htmx:
            # htmx swaps 2xx answers only: the form with its errors comes back as 200, marked
            # by the `errors` class, so the user sees them in place with their input kept.
            context = _interaction_context(customer, _contacts(actor, customer.id), values, errors)
            story = customer_story(session, actor, customer.id)
            return render_template("ui/_customer_story.html", story=story, **context)
        return _page(actor, customer, {"values": values, "errors": errors}, 422)
    flash_text = _("Interaction saved.")
    if htmx:
        context = _interaction_context(customer, _contacts(actor, customer.id), saved=True)
        story = customer_story(session, actor, customer.id)
        return render_template("ui/_customer_story.html", story=story, **context)
    flash(flash_text, "success")
    return redirect(url_for("ui_customers.customer_page", customer_id=customer.id))


@bp.post("/<int:customer_id>/processes")
@login_required
def start_process(customer_id: int):
    """Start the chosen process with this customer as its subject."""
    session = db()
    user = signed_in_user()
    actor = actor_for(session, user)
    customer = record_service.get_record(session, actor, "customers", customer_id)
    key = request.form.get("process_key", "")
    back = url_for("ui_customers.customer_page", customer_id=customer.id)
    if not key:
        flash(_("Choose a process to start."), "error")
        return redirect(back)
    try:
        instance = start_instance(
            session, user, key, subject={"type": SUBJECT_TYPE, "id": customer.id}
        )
    except NotFound:
        flash(_("There is no process %(key)s.", key=key), "error")
        return redirect(back)
    except (Forbidden, Invalid) as exc:
        flash(translated(str(exc.message)), "error")
        return redirect(back)
    flash(_("Process started."), "success")
    return redirect(url_for("ui_instances.instance_page", instance_id=instance.id))
