"""Reminder and start rules as HTML forms: the posted inputs as the data the rule services
check (crm_domain.reminders), and a saved rule as the form's values.

Lists and objects the services take (filters, conditions, data mapping) are edited as JSON
text; a text that is not JSON is passed on as is, so the service reports it on that field.
A reminder rule's `segment` filter has a select of its own (saved customer segments).
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.datastructures import MultiDict

from core.digits import is_digits
from crm_domain.reminders.segment_use import SEGMENT_FILTER


def _json_or_text(text: str, empty: Any) -> Any:
    text = text.strip()
    if not text:
        return empty
    try:
        return json.loads(text)
    except ValueError:
        return text


def _whole_number(text: str) -> Any:
    text = text.strip()
    return int(text) if is_digits(text) else text


def reminder_data(posted: MultiDict) -> dict:
    recipients = [kind for kind in ("owner", "manager") if posted.get(f"to_{kind}") == "on"]
    recipients += [
        f"role:{key.strip()}" for key in posted.get("to_roles", "").split(",") if key.strip()
    ]
    message = {lang: posted.get(f"message_{lang}", "").strip() for lang in ("zh", "en")}
    return {
        "name": posted.get("name", ""),
        "kind": posted.get("kind", "date_field"),
        "collection": posted.get("collection", "customers"),
        "date_field": posted.get("date_field", "").strip() or None,
        "yearly": posted.get("yearly") == "on",
        "days": _whole_number(posted.get("days", "")),
        "timing": posted.get("timing", "before"),
        "recipients": recipients,
        "manager_role": posted.get("manager_role", "sales_manager").strip(),
        "channels": [c for c in ("in_app", "email") if posted.get(f"channel_{c}") == "on"],
        "message": {lang: text for lang, text in message.items() if text},
        "filters": _with_segment(
            _json_or_text(posted.get("filters", ""), {}), posted.get("segment", "")
        ),
        "active": posted.get("active") == "on",
    }


def _with_segment(filters: Any, segment: str) -> Any:
    """The JSON filters plus the segment chosen in its own select (which wins over a
    `segment` key typed into the JSON); text that is not a JSON object is left to the check."""
    if not isinstance(filters, dict):
        return filters
    filters = {key: value for key, value in filters.items() if key != SEGMENT_FILTER}
    segment = segment.strip()
    if segment:
        filters[SEGMENT_FILTER] = _whole_number(segment)
    return filters


def reminder_form(data: dict) -> dict:
    """A rule's values (saved or posted) as the inputs show them."""
    recipients = data.get("recipients") or []
    filters = data.get("filters")
    segment = ""
    if isinstance(filters, dict):
        segment = filters.get(SEGMENT_FILTER, "")
        filters = {key: value for key, value in filters.items() if key != SEGMENT_FILTER}
    return {
        **data,
        "date_field": data.get("date_field") or "",
        "to_owner": "owner" in recipients,
        "to_manager": "manager" in recipients,
        "to_roles": ", ".join(r.split(":", 1)[1] for r in recipients if r.startswith("role:")),
        "message_zh": (data.get("message") or {}).get("zh", ""),
        "message_en": (data.get("message") or {}).get("en", ""),
        "filters": filters if isinstance(filters, str) else _dumps(filters or {}),
        "segment": str(segment),
    }


def start_rule_data(posted: MultiDict) -> dict:
    value = posted.get("value", "").strip()
    return {
        "name": posted.get("name", ""),
        "event": posted.get("event", "created"),
        "collection": posted.get("collection", "customers"),
        "field": posted.get("field", "").strip() or None,
        "value": _json_or_text(value, None) if value else None,
        "conditions": _json_or_text(posted.get("conditions", ""), {}),
        "process_key": posted.get("process_key", "").strip(),
        "data_mapping": _json_or_text(posted.get("data_mapping", ""), {}),
        "active": posted.get("active") == "on",
    }


def start_rule_form(data: dict) -> dict:
    def shown(value: Any) -> str:
        return value if isinstance(value, str) else _dumps(value)

    value = data.get("value")
    return {
        **data,
        "field": data.get("field") or "",
        "value": "" if value is None else (value if isinstance(value, str) else _dumps(value)),
        "conditions": shown(data.get("conditions") or {}),
        "data_mapping": shown(data.get("data_mapping") or {}),
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if value not in ({}, None) else ""
