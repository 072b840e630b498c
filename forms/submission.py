"""Check what a user submits against a form definition, field by field, on the server.

The result is JSON-native process data: decimals become numbers rounded to the field's places,
dates and datetimes ISO strings (datetimes in UTC). Errors come back as `Invalid` with
`{field_name: [messages]}` so a form can show each message next to its field.

A decimal field whose places name a configured precision (`"places": "quantity"`) is not
rounded: a value with more decimals than the caller says that precision has today
(`places={"quantity": 0}`) is refused on its field, as the REST API refuses such a quote line.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from core.errors import Invalid
from forms.definitions import MAX_PLACES, TEXT_TYPES, named_places

REQUIRED = "This field is required."
BLANK_IS_TEXT = {"text", "long_text"}  # a blank input is "" here; for every other type, no value
DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 10_000, "email": 254, "phone": 30}
PHONE_PATTERN = r"^\+?[0-9][0-9 ()\-]{2,29}$"


class ChoiceField(fields.Field):
    """One of the form's choice values; "3" from an HTML form matches the choice 3."""

    def __init__(self, values: list, **kwargs):
        super().__init__(**kwargs)
        self.values = values
        self.by_text = {str(value): value for value in values}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("Choose one of the listed options.")
        if value in self.values and type(value) in (type(v) for v in self.values):
            return value
        if str(value) in self.by_text:
            return self.by_text[str(value)]
        raise ValidationError("Choose one of the listed options.")


class WholeNumber(fields.Integer):
    """An integer; 1.5 is refused rather than cut to 1 (1.0 is fine)."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def decimal_places(value: decimal.Decimal) -> int:
    """Decimals a number really has: 2.50 has one, 100 none."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def fit_places(number: decimal.Decimal, places: int) -> decimal.Decimal | None:
    """`number` kept with exactly `places` decimals, or None when it has more: a precision
    refuses extra decimals, it never rounds them away."""
    if decimal_places(number) > places:
        return None
    return number.quantize(decimal.Decimal(1).scaleb(-places))


def places_message(name: str, places: int) -> str:
    """Why a value has too many decimals for the configured precision `name`.

    Stable English sentences, the REST API's for quote and order lines (the browser translates
    them: web/ui/validation_messages.py)."""
    if places == 0:
        return "Enter a whole number."
    noun = "a quantity" if name == "quantity" else "an amount"
    return f"Enter {noun} with at most {places} decimal places."


class ConfiguredPlaces(fields.Decimal):
    """A number with at most `limit` decimals (trailing zeros do not count), kept with exactly
    that many; more is refused with `message`, never rounded away. `limit` None: not checked
    (a default checked when the form is uploaded, before anyone knows the setting)."""

    def __init__(self, limit: int | None, message: str, **kwargs):
        super().__init__(places=None, allow_nan=False, **kwargs)
        self.limit = limit
        self.message = message

    def _format_num(self, value):
        number = super()._format_num(value)
        if self.limit is None or not number.is_finite():
            return number
        # Too many digits to quantize raises InvalidOperation: "Enter a number.", as for others.
        fitted = fit_places(number, self.limit)
        if fitted is None:
            raise ValidationError(self.message)
        return fitted


class IsoDate(fields.Date):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class UtcDateTime(fields.AwareDateTime):
    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.endswith("Z"):
            value = value[:-1] + "+00:00"
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


def _messages(**extra: str) -> dict[str, str]:
    return {"required": REQUIRED, "null": REQUIRED, **extra}


def _marshmallow_field(spec: dict, configured: dict[str, int | None]) -> fields.Field:
    kind = spec["type"]
    required = bool(spec.get("required"))
    options: dict[str, Any] = {
        "required": required,
        "allow_none": not required,
        "error_messages": _messages(),
    }
    checks: list = []
    if kind in TEXT_TYPES:
        longest = spec.get("max_length", DEFAULT_MAX_LENGTH[kind])
        shortest = spec.get("min_length", 0)
        checks.append(
            _text_length(
                required,
                shortest,
                longest,
                f"Enter between {shortest} and {longest} characters."
                if shortest
                else f"Enter at most {longest} characters.",
            )
        )
        if kind == "email":
            return fields.Email(
                validate=checks, **_with_messages(options, invalid="Not a valid email address.")
            )
        if kind == "phone":
            checks.append(validate.Regexp(PHONE_PATTERN, error="Not a valid phone number."))
        if spec.get("pattern"):
            checks.append(_full_match(spec["pattern"]))
        return fields.String(validate=checks, **options)
    if kind == "reference":
        return fields.Integer(
            strict=False,
            validate=validate.Range(min=1, error="Choose a record."),
            **_with_messages(options, invalid="Choose a record."),
        )
    if kind in ("integer", "decimal"):
        if "min" in spec or "max" in spec:
            # Compared with the bound as written: 0.01, not the float 0.01000000000000000021.
            low, high = (_as_written(spec[b]) if b in spec else None for b in ("min", "max"))
            checks.append(validate.Range(min=low, max=high, error=_range_error(spec)))
        if kind == "integer":
            return WholeNumber(
                validate=checks, **_with_messages(options, invalid="Enter a whole number.")
            )
        places = spec.get("places", 2)
        if isinstance(places, str):
            limit = configured[places]
            return ConfiguredPlaces(
                limit,
                places_message(places, limit or 0),
                validate=checks,
                **_with_messages(options, invalid="Enter a number.", special="Enter a number."),
            )
        return fields.Decimal(
            places=places,
            rounding=decimal.ROUND_HALF_UP,
            allow_nan=False,
            validate=checks,
            **_with_messages(options, invalid="Enter a number.", special="Enter a number."),
        )
    if kind in ("date", "datetime"):
        convert = date.fromisoformat if kind == "date" else _instant
        low = convert(spec["min"]) if "min" in spec else None
        high = convert(spec["max"]) if "max" in spec else None
        if low or high:
            checks.append(validate.Range(min=low, max=high, error=_range_error(spec)))
        field_class = IsoDate if kind == "date" else UtcDateTime
        invalid = "Enter a date (YYYY-MM-DD)." if kind == "date" else "Enter a date and time."
        return field_class(validate=checks, **_with_messages(options, invalid=invalid))
    if kind == "boolean":
        return fields.Boolean(**_with_messages(options, invalid="Choose yes or no."))
    values = [choice["value"] for choice in spec["choices"]]
    if kind == "choice":
        return ChoiceField(values, **options)
    return fields.List(
        ChoiceField(values),
        validate=validate.Length(min=1 if required else 0, error=REQUIRED),
        **_with_messages(options, invalid="Choose from the listed options."),
    )


def _as_written(bound: float | int) -> decimal.Decimal:
    return decimal.Decimal(repr(bound))


def _text_length(required: bool, shortest: int, longest: int, error: str):
    """Blank is "required" or fine (as in HTML, min_length does not apply to a blank input)."""

    def check(value: str) -> None:
        if not value:
            if required:
                raise ValidationError(REQUIRED)
            return
        if not shortest <= len(value) <= longest:
            raise ValidationError(error)

    return check


def _full_match(pattern: str):
    compiled = re.compile(pattern)

    def check(value: str) -> None:
        if value and compiled.fullmatch(value) is None:
            raise ValidationError("Does not match the required format.")

    return check


def _with_messages(options: dict, **messages: str) -> dict:
    return {**options, "error_messages": {**options["error_messages"], **messages}}


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _range_error(spec: dict) -> str:
    low, high = spec.get("min"), spec.get("max")
    if low is not None and high is not None:
        return f"Enter a value from {low} to {high}."
    if low is not None:
        return f"Enter a value of at least {low}."
    return f"Enter a value of at most {high}."


@lru_cache(maxsize=512)
def _schema_for(canonical: str, configured: tuple[tuple[str, int | None], ...]) -> Schema:
    definition = json.loads(canonical)
    declared = {
        spec["name"]: _marshmallow_field(spec, dict(configured))
        for spec in definition["fields"]
        if not spec.get("readonly")
    }
    return Schema.from_dict(declared, name="FormSubmission")(unknown=RAISE)


def _schema(definition: dict, configured: tuple[tuple[str, int | None], ...]) -> Schema:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, default=str)
    return _schema_for(canonical, configured)


def _configured(
    definition: dict, places: Mapping[str, int] | None
) -> tuple[tuple[str, int | None], ...]:
    """The places of each precision the form names, as the caller gave them (sorted pairs)."""
    names = named_places(definition)
    if not names:
        return ()
    given = places or {}
    for name in sorted(names):
        value = given.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PLACES:
            # A caller's mistake, not the user's: the form cannot be checked without it.
            raise ValueError(
                f"The form has decimal fields with the configured '{name}' places: "
                f"load_submission needs places={{'{name}': 0..{MAX_PLACES}}}, got {value!r}."
            )
    return tuple(sorted((name, given[name]) for name in names))


def _prepared(definition: dict, data: dict) -> dict:
    """Blank strings from HTML forms mean "no value" for everything but text."""
    kinds = {spec["name"]: spec["type"] for spec in definition["fields"]}
    prepared = {}
    for name, value in data.items():
        kind = kinds.get(name)
        if isinstance(value, str) and kind is not None:
            value = value.strip()
            if value == "" and kind not in BLANK_IS_TEXT:
                value = None
        prepared[name] = value
    return prepared


def load_submission(
    definition: dict,
    data: Any,
    partial: bool = False,
    places: Mapping[str, int] | None = None,
) -> dict:
    """The cleaned, JSON-native values, or `Invalid` with `{field: [messages]}`.

    `places` says what each configured precision the form names stands for now, e.g.
    `{"quantity": 0, "money": 2}`; it is needed only when the form names one (see
    `forms.definitions.named_places`), and a ValueError when such a form comes without it.
    """
    return _load(definition, data, partial, _configured(definition, places))


def _load(
    definition: dict,
    data: Any,
    partial: bool,
    configured: tuple[tuple[str, int | None], ...],
) -> dict:
    if not isinstance(data, dict):
        raise Invalid("The form data must be an object.", details={"data": ["Must be an object."]})
    readonly = {spec["name"] for spec in definition["fields"] if spec.get("readonly")}
    errors: dict[str, list[str]] = {
        name: ["This field is read-only."] for name in data if name in readonly
    }
    try:
        loaded = _schema(definition, configured).load(
            {k: v for k, v in _prepared(definition, data).items() if k not in readonly},
            partial=partial,
        )
    except ValidationError as exc:
        for name, messages in exc.messages.items():
            errors.setdefault(name, []).extend(_flat_messages(messages))
        loaded = {}
    errors = {
        name: ["Unknown field."] if m == ["Unknown field."] else m for name, m in errors.items()
    }
    if errors:
        raise Invalid("Some fields need your attention.", details=errors)
    return {name: _json_native(value) for name, value in loaded.items()}


def _flat_messages(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat_messages(value)]
    return [m for value in messages for m in _flat_messages(value)]


def _json_native(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value) + 0.0  # + 0.0: -0.001 rounded to places 2 is 0.0, not -0.0
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json_native(item) for item in value]
    return value


def field_errors(spec: dict, value: Any) -> list[str]:
    """Messages for one value of one field (empty when it is fine); used for defaults.

    Configured places are not checked here: the setting may change before the form is used."""
    definition = {"fields": [{**spec, "readonly": False}]}
    unchecked = tuple((name, None) for name in sorted(named_places(definition)))
    try:
        _load(definition, {spec["name"]: value}, False, unchecked)
    except Invalid as exc:
        return [m for messages in exc.details.values() for m in messages]
    return []
