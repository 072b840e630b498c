"""What a task form looks like, validated when it is uploaded.

A form is JSON:

    {"key": "prepare_quote",
     "title": {"zh": "准备报价", "en": "Prepare quote"},
     "fields": [{"name": "list_price", "type": "decimal", "places": 2, "required": true,
                 "min": 0.01, "label": {"zh": "标价", "en": "List price"},
                 "help": {"zh": "...", "en": "..."}}]}

A decimal field's `places` is a number (0 to 8: the value is rounded half up to it) or the name
of a precision the administrator configures, `"quantity"` or `"money"` (more decimals than
configured are refused, never rounded; see `NAMED_PLACES`).

Labels, titles and help are `{"zh": ..., "en": ...}` (either language may be missing) or a
plain string. Errors come back as `Invalid` with `{path: [messages]}`, e.g.
`{"fields.2.choices": ["A choice field needs at least one choice."]}`.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from core.digits import is_digits
from core.errors import Invalid

FIELD_TYPES = (
    "text",
    "long_text",
    "integer",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "choice",
    "multi_choice",
    "email",
    "phone",
    "reference",
)
TEXT_TYPES = {"text", "long_text", "email", "phone"}
NUMBER_TYPES = {"integer", "decimal"}
CHOICE_TYPES = {"choice", "multi_choice"}
LANGUAGES = ("zh", "en")
MAX_FIELDS = 200
MAX_CHOICES = 500
MAX_PLACES = 8
# Precisions a decimal field may name instead of a number of places. What each stands for is a
# system setting (crm_domain), so forms/ never reads it: whoever validates a submission passes
# the current values in (see forms.submission.load_submission).
NAMED_PLACES = ("quantity", "money")

KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
# Field names become process variables, which the script sandbox reads: no leading underscore.
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


class LocalizedText(fields.Field):
    """`"text"` or `{"zh": "...", "en": "..."}`; always loaded as the dict form."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = {"en": value}
        if not isinstance(value, dict) or not value:
            raise ValidationError('Give a text or an object like {"zh": "...", "en": "..."}.')
        unknown = set(value) - set(LANGUAGES)
        if unknown:
            raise ValidationError(f"Unknown language(s): {', '.join(sorted(unknown))}.")
        for language, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise ValidationError(f"The '{language}' text must be a non-empty string.")
            if len(text) > 2000:
                raise ValidationError(f"The '{language}' text is longer than 2000 characters.")
        return {language: value[language].strip() for language in LANGUAGES if language in value}


class Places(fields.Field):
    """A whole number from 0 to MAX_PLACES, or one of NAMED_PLACES."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip() in NAMED_PLACES:
            return value.strip()
        if isinstance(value, str) and is_digits(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PLACES:
            names = " or ".join(f'"{name}"' for name in NAMED_PLACES)
            raise ValidationError(
                f"Give a whole number from 0 to {MAX_PLACES}, or {names} for the places "
                "an administrator configures."
            )
        return value


class ChoiceSchema(Schema):
    class Meta:
        unknown = RAISE

    value = fields.Raw(required=True)
    label = LocalizedText(required=True)

    @validates_schema
    def _value_is_simple(self, data, **kwargs):
        value = data.get("value")
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise ValidationError("A choice value is a non-empty string or an integer.", "value")


class FieldSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(
        required=True,
        validate=validate.Regexp(
            NAME_PATTERN,
            error="Use letters, digits and '_', starting with a letter (at most 63).",
        ),
    )
    type = fields.String(
        required=True,
        validate=validate.OneOf(FIELD_TYPES, error="Unknown type; use one of: {choices}."),
    )
    label = LocalizedText(required=True)
    help = LocalizedText()
    required = fields.Boolean(load_default=False)
    readonly = fields.Boolean(load_default=False)
    placeholder = LocalizedText()
    default = fields.Raw(allow_none=True)
    min = fields.Raw()
    max = fields.Raw()
    places = Places()
    min_length = fields.Integer(validate=validate.Range(0, 100_000))
    max_length = fields.Integer(validate=validate.Range(1, 100_000))
    choices = fields.List(fields.Nested(ChoiceSchema), validate=validate.Length(max=MAX_CHOICES))
    pattern = fields.String(validate=validate.Length(min=1, max=200))
    collection = fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9-]{0,49}$"))
    sensitive = fields.Boolean(load_default=False)

    @validates_schema
    def _options_fit_the_type(self, data, **kwargs):
        kind = data.get("type")
        if kind is None:
            return
        errors: dict[str, list[str]] = {}

        def refuse(option: str, message: str) -> None:
            errors.setdefault(option, []).append(message)

        if kind in CHOICE_TYPES:
            choices = data.get("choices") or []
            if not choices:
                refuse("choices", "A choice field needs at least one choice.")
            # As text too: an HTML form sends "1" for both 1 and "1".
            values = [str(choice["value"]) for choice in choices]
            if len(values) != len(set(values)):
                refuse("choices", "Choice values must be unique.")
        elif "choices" in data:
            refuse("choices", f"Only choice fields have choices, not '{kind}'.")
        if "pattern" in data:
            problem = (
                pattern_problem(data["pattern"])
                if kind in ("text", "long_text")
                else (f"Only text fields have a pattern, not '{kind}'.")
            )
            if problem:
                refuse("pattern", problem)
        if kind == "reference" and not data.get("collection"):
            refuse("collection", "A reference field names the collection it points to.")
        elif "collection" in data and kind != "reference":
            refuse("collection", "Only reference fields have a collection.")
        if "places" in data and kind != "decimal":
            refuse("places", "Only decimal fields have places.")
        for option in ("min", "max"):
            if option in data:
                problem = _bound_problem(kind, data[option])
                if problem:
                    refuse(option, problem)
        bounded = not errors and "min" in data and "max" in data
        if bounded and _bound_value(kind, data["min"]) > _bound_value(kind, data["max"]):
            refuse("max", "max must not be below min.")
        for option in ("min_length", "max_length"):
            if option in data and kind not in TEXT_TYPES:
                refuse(option, f"Only text fields have {option}.")
        if data.get("min_length", 0) > data.get("max_length", 100_000):
            refuse("max_length", "max_length must not be below min_length.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def _defaults(self, data, **kwargs):
        if data["type"] == "decimal":
            data.setdefault("places", 2)
        return data


# A quantified group that is itself quantified, e.g. (a+)+ or (\w*)*: backtracking can take
# exponential time on a short input, and Python's re has no timeout.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}]\)[+*{]")


def pattern_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"Not a valid regular expression: {exc}."
    if _NESTED_QUANTIFIER.search(pattern):
        return "Nested repetition such as (a+)+ is not allowed: it can make matching hang."
    return None


def _bound_problem(kind: str, bound: Any) -> str | None:
    if kind in NUMBER_TYPES:
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            return "Must be a number."
        if not math.isfinite(bound):
            return "Must be a finite number."
        if kind == "integer" and not float(bound).is_integer():
            return "Must be a whole number for an integer field."
        return None
    if kind in ("date", "datetime"):
        return None if isinstance(bound, str) and _is_iso(bound, kind) else "Must be an ISO date."
    return f"Only number and date fields have min/max, not '{kind}'."


def _is_iso(text: str, kind: str) -> bool:
    try:
        _bound_value(kind, text)
    except ValueError:
        return False
    return True


def _bound_value(kind: str, bound: Any) -> Any:
    """A min/max as submissions are compared with it (ISO texts as dates or UTC instants)."""
    if kind == "date":
        return date.fromisoformat(bound)
    if kind == "datetime":
        value = datetime.fromisoformat(bound.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return bound


class FormSchema(Schema):
    class Meta:
        unknown = RAISE

    key = fields.String(
        required=True,
        validate=validate.Regexp(
            KEY_PATTERN, error="Use letters, digits, '_', '.', '-', starting with a letter."
        ),
    )
    title = LocalizedText(required=True)
    description = LocalizedText()
    fields = fields.List(
        fields.Nested(FieldSchema), required=True, validate=validate.Length(max=MAX_FIELDS)
    )

    @validates_schema
    def _names_are_unique(self, data, **kwargs):
        seen: set[str] = set()
        for index, field in enumerate(data.get("fields") or []):
            if field["name"] in seen:
                raise ValidationError(
                    {f"{index}.name": [f"Field '{field['name']}' appears twice."]}, "fields"
                )
            seen.add(field["name"])


def named_places(definition: dict | None) -> set[str]:
    """The configured precisions (NAMED_PLACES) the form's decimal fields name."""
    return {
        spec["places"]
        for spec in (definition or {}).get("fields", ())
        if spec.get("type") == "decimal" and isinstance(spec.get("places"), str)
    }


def validate_form_definition(definition: Any) -> dict:
    """The definition with defaults filled in, or `Invalid` with `{path: [messages]}`."""
    if not isinstance(definition, dict):
        raise Invalid("A form is a JSON object.", details={"": ["A form is a JSON object."]})
    try:
        cleaned = FormSchema().load(definition)
    except ValidationError as exc:
        raise Invalid("The form definition is invalid.", details=flatten(exc.messages)) from None
    _check_defaults(cleaned)
    return cleaned


def _check_defaults(definition: dict) -> None:
    from forms.submission import field_errors

    problems = {}
    for index, field in enumerate(definition["fields"]):
        if field.get("default") is not None:
            messages = field_errors(field, field["default"])
            if messages:
                problems[f"fields.{index}.default"] = messages
    if problems:
        raise Invalid("The form definition is invalid.", details=problems)


def load_form_file(content: bytes, filename: str) -> dict:
    """Parse and validate an uploaded form file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            f"'{filename}' is not UTF-8 text.", details={"": ["The file is not UTF-8 text."]}
        ) from None
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        raise Invalid(f"'{filename}' is not valid JSON.", details={"": [message]}) from None
    return validate_form_definition(definition)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as `{"fields.2.choices": [...]}`."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix
            for sub_path, sub_messages in flatten(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix: list(messages)}
    if isinstance(messages, list):
        flat = {}
        for item in messages:
            for sub_path, sub_messages in flatten(item, prefix).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
        return flat
    return {prefix: [str(messages)]}
