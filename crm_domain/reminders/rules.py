"""Reminder rules: validated rows an administrator creates, changes and switches off.

Input and errors follow the REST contract: every problem is reported at once, keyed by field
(`{"days": ["..."], "message.zh": ["..."]}`), as one 422.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid
from crm_domain.analytics.models import Segment
from crm_domain.analytics.segments import company_customers_select
from crm_domain.collections import COLLECTIONS
from crm_domain.record_fields import MAX_ID
from crm_domain.reminders import catalog, rule_store
from crm_domain.reminders.models import ReminderRule
from crm_domain.reminders.segment_use import SEGMENT_FILTER
from crm_domain.reminders.templates import placeholders
from crm_domain.roles import role_keys
from crm_domain.settings import get_setting
from crm_domain.users import User

KINDS = ("date_field", "holiday", "no_contact")
TIMINGS = ("before", "after")
CHANNELS = ("in_app", "email")
RECIPIENT_KINDS = ("owner", "manager", "role")
MAX_DAYS = 366
KIND = "reminder_rule"  # in the admin audit log
FIELDS = (
    "name",
    "kind",
    "collection",
    "date_field",
    "yearly",
    "days",
    "timing",
    "recipients",
    "manager_role",
    "channels",
    "message",
    "filters",
    "active",
)
DEFAULTS: dict[str, Any] = {
    "date_field": None,
    "yearly": False,
    "days": 0,
    "timing": "before",
    "recipients": ["owner"],
    "manager_role": "sales_manager",
    "channels": ["in_app"],
    "filters": {},
    "active": True,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_NONE = object()  # no stored segment to compare with (a new rule)


def checked_rule(session: Session, data: Any, stored_segment: Any = _NONE) -> dict[str, Any]:
    """The rule's values, complete and valid, or Invalid with every problem by field.

    `stored_segment` is the `filters.segment` the rule has now (a change): a rule that keeps
    that segment and ends up switched off is not asked whether the segment still works, so a
    rule whose segment broke can be switched off (and edited while off). A new or changed
    segment, or a rule that is (or is switched) on, must still have a segment that works."""
    data = rule_store.require_object(data)
    errors: dict[str, list[str]] = {}

    def error(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for key in sorted(set(data) - set(FIELDS)):
        error(key, "Unknown field.")
    values = {**DEFAULTS, **{k: v for k, v in data.items() if k in FIELDS}}
    if "days" not in data:  # the administrator's default lead time (system settings)
        values["days"] = get_setting(session, "reminders.lead_days_default")

    name = values.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        error("name", "Give a name of 1 to 200 characters.")
    kind = values.get("kind")
    if kind not in KINDS:
        error("kind", f"Use one of: {', '.join(KINDS)}.")
    if kind in ("holiday", "no_contact") and "collection" not in data:
        values["collection"] = "customers"
    collection = values.get("collection")
    if collection not in catalog.owned_collections():
        error("collection", f"Use one of: {', '.join(catalog.owned_collections())}.")
        collection = None
    elif kind in ("holiday", "no_contact") and collection != "customers":
        error("collection", f"A {kind} rule is about customers.")
    _check_date_field(session, kind, collection, values, error)
    if not isinstance(values["yearly"], bool):
        error("yearly", "Must be true or false.")
    if not _is_int(values["days"]) or not 0 <= values["days"] <= MAX_DAYS:
        error("days", f"Give a whole number of days from 0 to {MAX_DAYS}.")
    elif kind == "no_contact" and values["days"] < 1:
        error("days", "Say after how many days without contact (at least 1).")
    if values["timing"] not in TIMINGS:
        error("timing", f"Use one of: {', '.join(TIMINGS)}.")
    elif kind == "holiday" and values["timing"] != "before":
        error("timing", "Holiday greetings are reminded before the holiday.")
    roles = role_keys(session)
    _check_recipients(values["recipients"], roles, error)
    if values["manager_role"] not in roles:
        error("manager_role", "No such role.")
    channels = values["channels"]
    if (
        not isinstance(channels, list)
        or not channels
        or any(c not in CHANNELS for c in channels)
        or len(set(channels)) != len(channels)
    ):
        error("channels", f"List one or both of: {', '.join(CHANNELS)}.")
    _check_message(values.get("message"), collection, error)
    if collection:
        filters = values["filters"]
        kept = isinstance(filters, dict) and filters.get(SEGMENT_FILTER, _NONE) == stored_segment
        _check_filters(session, filters, collection, error, kept and values["active"] is False)
    if not isinstance(values["active"], bool):
        error("active", "Must be true or false.")
    if errors:
        raise Invalid("The reminder rule is not valid.", details=errors)
    values["name"] = values["name"].strip()
    if kind != "date_field":
        values["date_field"], values["yearly"] = None, kind == "holiday"
    return values


def _check_date_field(session, kind, collection, values, error) -> None:
    if kind != "date_field":
        if values.get("date_field") not in (None, ""):
            error("date_field", f"A {kind} rule has no date field.")
        return
    if collection is None:
        return
    choices = catalog.date_columns(COLLECTIONS[collection]) + catalog.custom_date_fields(
        session, collection
    )
    if values.get("date_field") not in choices:
        listed = ", ".join(choices) or "none: add a custom date field first"
        error("date_field", f"Use a date field of {collection}: {listed}.")


def _check_recipients(recipients: Any, roles: set[str], error) -> None:
    if not isinstance(recipients, list) or not recipients or len(recipients) > 10:
        error("recipients", 'List 1 to 10 recipients: "owner", "manager" or "role:<role key>".')
        return
    for index, item in enumerate(recipients):
        if not isinstance(item, str):
            error(f"recipients.{index}", "Must be a string.")
            continue
        kind, _, role = item.partition(":")
        if kind not in RECIPIENT_KINDS or (kind == "role") != bool(role):
            error(f"recipients.{index}", 'Use "owner", "manager" or "role:<role key>".')
        elif kind == "role" and role not in roles:
            error(f"recipients.{index}", f"No such role: {role}.")


def _check_message(message: Any, collection: str | None, error) -> None:
    if not isinstance(message, dict) or not message:
        error("message", 'Give the message as {"zh": "...", "en": "..."} (at least one).')
        return
    allowed = catalog.allowed_placeholders(collection) if collection else None
    for language in sorted(message):
        text = message[language]
        key = f"message.{language}"
        if language not in ("zh", "en"):
            error(key, "Only zh and en messages are kept.")
        elif not isinstance(text, str) or not 1 <= len(text.strip()) <= 2000:
            error(key, "Give a text of 1 to 2000 characters.")
        else:
            names, problems = placeholders(text)
            for problem in problems:
                error(key, problem)
            unknown = sorted({n for n in names if allowed is not None and n not in allowed})
            for name in unknown:
                error(key, f"Unknown placeholder {{{name}}}; use one of: {_sample(allowed)}.")


def _sample(allowed: set[str]) -> str:
    ordered = sorted(allowed)
    return ", ".join("{" + n + "}" for n in ordered[:40]) + (" ..." if len(ordered) > 40 else "")


def _check_filters(
    session: Session, filters: Any, collection: str, error, segment_kept_off: bool = False
) -> None:
    if not isinstance(filters, dict):
        error("filters", 'Give an object like {"grade": ["A", "B"]}.')
        return
    keys = catalog.filter_keys(collection)
    for key, value in filters.items():
        if key == SEGMENT_FILTER:
            _check_segment(session, value, collection, error, segment_kept_off)
        elif key not in keys:
            error(f"filters.{key}", f"Unknown filter; use one of: {', '.join(sorted(keys))}.")
        elif not (
            _plain(value)
            or (isinstance(value, list) and value and len(value) <= 100 and all(map(_plain, value)))
        ):
            error(f"filters.{key}", "Give a value or a non-empty list of values.")


def _check_segment(
    session: Session, value: Any, collection: str, error, kept_off: bool = False
) -> None:
    """`segment`: the id of a saved customer segment that works company-wide right now
    (whether it works is not asked of a switched-off rule keeping its segment: `kept_off`)."""
    key = f"filters.{SEGMENT_FILTER}"
    if not catalog.about_customers(COLLECTIONS[collection]):
        error(key, f"Records of {collection} have no customer: a customer segment cannot apply.")
        return
    if not _is_int(value) or value < 1:
        error(key, "Give the id of a saved segment.")
        return
    # An id no INTEGER column holds is no segment (the database would refuse the lookup).
    segment = session.get(Segment, value) if value <= MAX_ID else None
    if segment is None:
        error(key, f"There is no segment {value}.")
        return
    if kept_off:  # the scheduler skips a switched-off rule: its segment is not evaluated
        return
    try:
        company_customers_select(session, segment.definition or {})
    except Invalid as exc:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in (exc.details or {}).items()
        )
        error(key, f"The segment no longer works ({problems}); fix the segment first.")


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 200


def create_reminder_rule(session: Session, user: User | None, data: Any) -> ReminderRule:
    return rule_store.add_rule(session, user, KIND, ReminderRule(**checked_rule(session, data)))


def get_reminder_rule(session: Session, rule_id: int) -> ReminderRule:
    return rule_store.get_rule(session, ReminderRule, rule_id, "Reminder rule")


def change_reminder_rule(
    session: Session, rule_id: int, data: Any, *, actor: Any = None
) -> ReminderRule:
    """Apply a partial change; reminders already created keep what they were created with."""
    rule = get_reminder_rule(session, rule_id)
    data = rule_store.require_object(data)
    merged = {**rule_values(rule), **data}
    if data.get("kind", rule.kind) != "date_field" and "date_field" not in data:
        merged["date_field"] = None  # a rule turned into a holiday/no-contact rule drops it
    stored_segment = (rule.filters or {}).get(SEGMENT_FILTER, _NONE)
    checked = checked_rule(session, merged, stored_segment)
    return rule_store.change_rule(session, actor, KIND, rule, checked)


def delete_reminder_rule(session: Session, rule_id: int, *, actor: Any = None) -> None:
    rule_store.delete_rule(session, actor, KIND, get_reminder_rule(session, rule_id))


def list_reminder_rules(session: Session, active_only: bool = False) -> list[ReminderRule]:
    stmt = select(ReminderRule).order_by(ReminderRule.id)
    if active_only:
        stmt = stmt.where(ReminderRule.active.is_(True))
    return list(session.scalars(stmt))


def rule_values(rule: ReminderRule) -> dict[str, Any]:
    return {key: getattr(rule, key) for key in FIELDS}
