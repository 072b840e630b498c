"""The segment editor's form: its inputs, a posted form as the segment the service checks
(crm_domain.analytics.segments), a saved segment as the inputs show it, and the service's
field errors in the reader's language.

Values are passed on as typed: a range bound that is not a number reaches the service as text,
so the service's own check reports it on that figure (the browser form and the API agree).

A saved segment may hold conditions the form has no input for (made through the API: a credit
rating, an owner, a multi-choice or sensitive custom field, or a choice no longer offered).
They are listed on the page and carried over unchanged on save unless the user ticks "remove":
rebuilding the definition only from the inputs would silently widen the segment (and every
reminder rule or campaign targeting it) to more customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from crm_domain import custom_fields
from crm_domain.access import Actor
from crm_domain.analytics.segments import RANGE_FIELDS
from crm_domain.analytics.value_matrix import QUADRANTS
from crm_domain.exchange.columns import CHOICE_LABELS, exchange_format
from crm_domain.record_service import SENSITIVE_FILTER
from web.ui.i18n import is_chinese, localized
from web.ui.record_columns import code_label, filter_choices
from web.ui.validation_messages import translated

# Customer list filters offered as inputs (the API takes any of the customer list's filters).
FILTERS = (
    ("region", _l("Region")),
    ("industry", _l("Industry")),
    ("grade", _l("Grade")),
    ("lifecycle_stage", _l("Lifecycle stage")),
    ("kind", _l("Customer kind")),
    ("relation", _l("Relation")),
)
# Custom field types whose value the customer list can match with one text (equality).
CUSTOM_TYPES = ("text", "integer", "decimal", "date", "boolean", "choice", "email", "phone")
RANGE_LABELS = {
    "recency_days": _l("Days since last order"),
    "frequency": _l("Orders"),
    "monetary": _l("Sales"),
    "r_score": _l("Recency score (1–5)"),
    "f_score": _l("Frequency score (1–5)"),
    "m_score": _l("Monetary score (1–5)"),
    "rfm_score": _l("RFM score"),
    "current_value": _l("Current value"),
    "clv_retention": _l("Lifetime value (retention formula)"),
    "clv_predicted": _l("Lifetime value (BG/NBD)"),
    "potential_value": _l("Potential value"),
    "expected_purchases": _l("Expected purchases"),
    "probability_alive": _l("Probability still active (0–1)"),
}
# The service's messages (English, crm_domain has no Babel) that this form can provoke.
MESSAGES = {
    "Give a name of 1 to 200 characters.": _l("Give a name of 1 to 200 characters."),
    "Give a text.": _l("Give a text."),
    "Give a text of at most 200 characters.": _l("Enter at most 200 characters."),
    "Give [min, max]; either may be null.": _l("Enter numbers; either end may stay empty."),
    "The minimum is above the maximum.": _l("The minimum is above the maximum."),
    "Give bounds between -10^15 and 10^15.": _l("Enter numbers between -10^15 and 10^15."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid int.": _l("Enter a whole number."),
    "Not a valid Decimal.": _l("Enter a number."),
    "Not a valid bool.": _l("Choose yes or no."),
    "No such custom field.": _l("This custom field no longer exists."),
    "Unknown filter.": _l("This field cannot be filtered."),
    SENSITIVE_FILTER: _l("Filtering by a sensitive field needs the 'view_sensitive' permission."),
}


@dataclass
class FilterInput:
    key: str  # the filter key: "grade", "custom.channel"
    label: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (code, label); [] = text
    kind: str = "text"


def filter_inputs(session, actor: Actor) -> list[FilterInput]:
    """The customer filters the editor offers: fixed ones and the active custom fields the
    user may see (a sensitive one only with the grant, as the list's own filters)."""
    inputs = []
    for key, label in FILTERS:
        codes = filter_choices("customers", key)
        choices = [(code, code_label(key, code)) for code in codes]
        inputs.append(FilterInput(key, str(label), choices))
    sensitive_ok = actor.rights.has_grant("view_sensitive")
    for custom in custom_fields.active_fields(session, "customers"):
        spec = custom.spec or {}
        if spec.get("type") not in CUSTOM_TYPES or (custom.sensitive and not sensitive_ok):
            continue
        choices = [(str(c["value"]), localized(c.get("label"))) for c in spec.get("choices", [])]
        if spec.get("type") == "boolean":
            choices = [("true", str(_l("Yes"))), ("false", str(_l("No")))]
        label = localized(spec.get("label")) or custom.name
        inputs.append(FilterInput(f"custom.{custom.name}", label, choices, spec["type"]))
    return inputs


def ranges() -> list[tuple[str, str]]:
    return [(name, str(RANGE_LABELS[name])) for name in RANGE_FIELDS]


def quadrants() -> list[tuple[str, str]]:
    return [(code, localized(names)) for code, names in QUADRANTS.items()]


def _number(text: str):
    """A bound as typed: a number, None when empty, the text itself when it is no number."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):  # "nan", "inf": no bound a figure can be compared with
        return text
    whole = number.is_integer() and not any(c in text for c in ".eE")
    return int(number) if whole else number


@dataclass
class KeptCondition:
    """A stored condition the form has no input for, as the page lists it."""

    name: str  # its token in the form's "drop" checkboxes: "f.credit_rating", "r.<figure>"
    error_key: str  # where the service reports on it: "definition.filters.credit_rating"
    label: str
    value: str


def _editable(key: str, value, inputs: list[FilterInput]) -> bool:
    """Whether an input shows this stored filter as it is (a select must offer the value)."""
    for item in inputs:
        if item.key == key:
            return not item.choices or str(value) in {code for code, _label in item.choices}
    return False


def kept_filters(definition: dict | None, inputs: list[FilterInput]) -> dict:
    """The stored filters no input of the form shows."""
    filters = (definition or {}).get("filters") or {}
    return {k: v for k, v in filters.items() if not _editable(k, v, inputs)}


def kept_ranges(definition: dict | None) -> dict:
    """The stored ranges no input of the form shows (none today: kept for older segments)."""
    ranges = (definition or {}).get("ranges") or {}
    return {name: bounds for name, bounds in ranges.items() if name not in RANGE_FIELDS}


def kept_conditions(
    session, actor: Actor, definition: dict | None, inputs: list[FilterInput]
) -> list[KeptCondition]:
    """The stored conditions the page lists as not editable here, in the reader's language; a
    sensitive field's value stays hidden from a user without the grant to see it."""
    lang = "zh" if is_chinese() else "en"
    columns = {column.name: column for column in exchange_format(session, "customers").columns}
    sensitive_ok = actor.rights.has_grant("view_sensitive")
    out = []
    for key, value in kept_filters(definition, inputs).items():
        column = columns.get(key)
        label = (column.label.get(lang) or column.label.get("en")) if column else None
        hidden = column is not None and column.sensitive and not sensitive_ok
        if hidden:
            shown = str(_l("(hidden)"))
        else:  # coded values in the reader's language; anything else as stored
            shown = code_label(key, value) if key in CHOICE_LABELS else str(value)
        out.append(KeptCondition(f"f.{key}", f"definition.filters.{key}", label or key, shown))
    for name, bounds in kept_ranges(definition).items():
        low, high = bounds if isinstance(bounds, list) and len(bounds) == 2 else (bounds, None)
        shown = f"{'' if low is None else low} – {'' if high is None else high}"
        out.append(KeptCondition(f"r.{name}", f"definition.ranges.{name}", name, shown))
    return out


def posted_segment(
    posted: MultiDict, inputs: list[FilterInput], stored: dict | None = None
) -> dict:
    """The form as `{name, description, definition}` for create_segment/update_segment.

    `stored` is the saved segment's definition (when editing): its conditions without an input
    are carried over as they are, except those the user ticked to remove ("drop")."""
    dropped = set(posted.getlist("drop"))
    filters = {k: v for k, v in kept_filters(stored, inputs).items() if f"f.{k}" not in dropped}
    for item in inputs:
        value = posted.get(f"f.{item.key}", "").strip()
        if value:
            filters[item.key] = value
    bounds = {k: v for k, v in kept_ranges(stored).items() if f"r.{k}" not in dropped}
    for name in RANGE_FIELDS:
        low = _number(posted.get(f"r.{name}.min", ""))
        high = _number(posted.get(f"r.{name}.max", ""))
        if low is not None or high is not None:
            bounds[name] = [low, high]
    definition: dict = {"filters": filters, "ranges": bounds}
    q = posted.get("q", "").strip()
    if q:
        definition["q"] = q
    quadrant = posted.get("quadrant", "").strip()
    if quadrant:
        definition["quadrant"] = quadrant
    description = posted.get("description", "").strip()
    return {
        "name": posted.get("name", ""),
        "description": description or None,
        "definition": definition,
    }


def form_values(data: dict) -> dict:
    """A segment (saved, or as posted) as the inputs show it: `{input name: text}`."""
    definition = data.get("definition") or {}
    values = {
        "name": data.get("name") or "",
        "description": data.get("description") or "",
        "q": definition.get("q") or "",
        "quadrant": definition.get("quadrant") or "",
    }
    for key, value in (definition.get("filters") or {}).items():
        values[f"f.{key}"] = str(value)
    for name, bounds in (definition.get("ranges") or {}).items():
        if isinstance(bounds, list) and len(bounds) == 2:
            for end, bound in zip(("min", "max"), bounds, strict=True):
                values[f"r.{name}.{end}"] = "" if bound is None else str(bound)
    return values


def shown_errors(details: dict | None) -> dict[str, list[str]]:
    """The service's field errors in the reader's language, keyed as the service keys them
    (`name`, `definition.filters.grade`, `definition.ranges.monetary`, ...)."""
    out: dict[str, list[str]] = {}
    for key, messages in (details or {}).items():
        listed = messages if isinstance(messages, list) else [messages]
        out[str(key)] = [str(MESSAGES[m]) if m in MESSAGES else translated(str(m)) for m in listed]
    return out
