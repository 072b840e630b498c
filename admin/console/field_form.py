"""A custom field's definition as the console's HTML form, and back.

The form keeps to the options an administrator needs (name, type, labels and help in both
languages, required, choices, maximum length, the referenced collection); the spec it builds
is checked by the same validator as task forms (crm_domain.custom_fields).
"""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from core.digits import is_digits
from forms.definitions import CHOICE_TYPES, TEXT_TYPES

EMPTY = {
    "name": "",
    "type": "text",
    "label_zh": "",
    "label_en": "",
    "help_zh": "",
    "help_en": "",
    "required": False,
    "sensitive": False,
    "choices": "",
    "max_length": "",
    "reference_collection": "customers",
}


def _localized(zh: str, en: str) -> dict:
    return {lang: text for lang, text in (("zh", zh.strip()), ("en", en.strip())) if text}


def _choices(text: str) -> list[dict]:
    """One choice a line: `value | 中文 | English` (the labels default to the value)."""
    choices = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not parts[0]:
            continue
        zh = parts[1] if len(parts) > 1 and parts[1] else parts[0]
        en = parts[2] if len(parts) > 2 and parts[2] else zh
        choices.append({"value": parts[0], "label": {"zh": zh, "en": en}})
    return choices


def form_values(posted: MultiDict) -> dict:
    values = {key: posted.get(key, default) for key, default in EMPTY.items()}
    values["required"] = posted.get("required") == "on"
    values["sensitive"] = posted.get("sensitive") == "on"
    return values


def spec_from(values: dict) -> dict:
    kind = values["type"]
    spec: dict = {
        "name": values["name"].strip(),
        "type": kind,
        "label": _localized(values["label_zh"], values["label_en"]),
        "required": values["required"],
    }
    help_text = _localized(values["help_zh"], values["help_en"])
    if help_text:
        spec["help"] = help_text
    if kind in CHOICE_TYPES:
        spec["choices"] = _choices(values["choices"])
    if kind == "reference":
        spec["collection"] = values["reference_collection"]
    max_length = str(values["max_length"]).strip()
    if kind in TEXT_TYPES and max_length:
        spec["max_length"] = int(max_length) if is_digits(max_length) else max_length
    return spec


def values_from(spec: dict, sensitive: bool) -> dict:
    """The form's values for an existing field."""
    label, help_text = spec.get("label") or {}, spec.get("help") or {}
    lines = [
        " | ".join((str(c["value"]), c["label"].get("zh", ""), c["label"].get("en", "")))
        for c in spec.get("choices", [])
    ]
    return {
        **EMPTY,
        "name": spec["name"],
        "type": spec["type"],
        "label_zh": label.get("zh", ""),
        "label_en": label.get("en", ""),
        "help_zh": help_text.get("zh", ""),
        "help_en": help_text.get("en", ""),
        "required": bool(spec.get("required")),
        "sensitive": sensitive,
        "choices": "\n".join(lines),
        "max_length": spec.get("max_length", ""),
        "reference_collection": spec.get("collection", "customers"),
    }
