"""A task's form definition as HTML inputs, and the posted inputs as the data the engine takes.

Validation is not done here: forms/submission.py checks the values (through
engine.tasks.complete_task); this module only turns HTML form encoding into plain values,
e.g. unchecked boxes into False and local date-times into UTC instants.

Number inputs stay text inputs (a mistyped "一百" is kept and reported by the server, not
dropped by the browser); their `step` and keyboard (`inputmode`) follow the field's places, a
configured precision's (`"places": "quantity"`) as the caller resolved it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from werkzeug.datastructures import MultiDict

from web.ui.i18n import localized
from web.ui.validation_messages import translated

_LEADING_ID = re.compile(r"^\s*#?(\d+)")


@dataclass
class FieldView:
    name: str
    type: str
    label: str
    help: str
    required: bool
    readonly: bool
    value: object  # what the input shows: the user's own input after an error
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    spec: dict = field(default_factory=dict)
    step: str | None = None  # number inputs: "1", "0.01"... (None: not known)

    def selected(self, choice_value: str) -> bool:
        if isinstance(self.value, list):
            return choice_value in [str(v) for v in self.value]
        return self.value is not None and str(self.value) == choice_value


def _timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _shown(spec: dict, value: object) -> object:
    """A stored value as its input shows it (datetimes in local time for datetime-local)."""
    if value is None:
        return None
    if spec["type"] == "datetime" and isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.astimezone(_timezone()).strftime("%Y-%m-%dT%H:%M")
    return value


def step_of(spec: dict, places: Mapping[str, int] | None = None) -> str | None:
    """The step of a number input: "1" for whole numbers, "0.01" for two places...; for a
    configured precision, from `places` ({"quantity": 0}); None when unknown or not a number."""
    if spec["type"] == "integer":
        return "1"
    if spec["type"] != "decimal":
        return None
    count = spec.get("places", 2)
    if isinstance(count, str):
        count = (places or {}).get(count)
    if count is None:
        return None
    return "1" if count == 0 else "0." + "0" * (count - 1) + "1"


def field_views(
    definition: dict,
    data: dict,
    posted: MultiDict | None = None,
    errors: dict[str, list[str]] | None = None,
    places: Mapping[str, int] | None = None,
) -> list[FieldView]:
    """The inputs to draw: stored data (or defaults) at first, the user's input after an error.

    `places`: what the form's configured precisions stand for now (engine.form_places)."""
    views = []
    for spec in definition["fields"]:
        name = spec["name"]
        if posted is not None and not spec.get("readonly"):
            if spec["type"] == "multi_choice":
                value: object = posted.getlist(name)
            elif spec["type"] == "boolean":
                value = posted.get(name) == "on"
            else:
                value = posted.get(name, "")
        else:
            value = _shown(spec, data.get(name, spec.get("default")))
        views.append(
            FieldView(
                name=name,
                type=spec["type"],
                label=localized(spec.get("label")),
                help=localized(spec.get("help")),
                required=bool(spec.get("required")),
                readonly=bool(spec.get("readonly")),
                value=value,
                choices=[
                    (str(choice["value"]), localized(choice["label"]))
                    for choice in spec.get("choices", [])
                ],
                errors=[translated(m) for m in (errors or {}).get(name, [])],
                spec=spec,
                step=step_of(spec, places),
            )
        )
    return views


def submitted_data(definition: dict, posted: MultiDict) -> dict:
    """The posted form as plain values, for forms.submission to check."""
    data: dict = {}
    for spec in definition["fields"]:
        name, kind = spec["name"], spec["type"]
        if spec.get("readonly"):
            continue
        if kind == "multi_choice":
            data[name] = posted.getlist(name)
        elif kind == "boolean":
            data[name] = posted.get(name) == "on"
        elif kind == "datetime":
            data[name] = _local_to_utc(posted.get(name, ""))
        elif kind == "reference":
            # The input shows "123 · 苏州锦华纺织"; the record id is the leading number.
            raw = posted.get(name, "")
            match = _LEADING_ID.match(raw)
            data[name] = match.group(1) if match else raw
        else:
            data[name] = posted.get(name, "")
    return data


def _local_to_utc(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return text  # left for the validator to report
    if local.tzinfo is None:
        local = local.replace(tzinfo=_timezone())
    return local.astimezone(UTC).isoformat()


def field_labels(forms: dict) -> dict[str, str]:
    """name → label over all forms of a process, to label the process data shown beside a task."""
    labels: dict[str, str] = {}
    for definition in (forms or {}).values():
        for spec in definition.get("fields", []):
            labels.setdefault(spec["name"], localized(spec.get("label")))
    return labels
