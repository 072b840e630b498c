"""The form editor's rows <-> a form definition (the `.json` a task form is deployed as).

The editor shows what a designer changes most: name, type, labels zh/en, required, choices,
and a decimal field's places (a number, or a configured precision: "quantity", "money").
Everything else a field already has (help, limits, defaults...) is kept as it was, so editing
a label never loses a rule written in the JSON.
"""

from __future__ import annotations

import json

from core.digits import is_digits
from forms.definitions import CHOICE_TYPES, MAX_PLACES, NAMED_PLACES

EXTRA_ROWS = 2  # empty rows offered for new fields
# The places a decimal field may take, as the editor offers them ("" : the default, 2).
PLACES_CHOICES = ("", *(str(n) for n in range(MAX_PLACES + 1)), *NAMED_PLACES)


def rows_of(definition: dict) -> list[dict]:
    rows = []
    for field in definition.get("fields", []):
        label = field.get("label") or {}
        rows.append(
            {
                "name": field.get("name", ""),
                "type": field.get("type", "text"),
                "label_zh": label.get("zh", "") if isinstance(label, dict) else str(label),
                "label_en": label.get("en", "") if isinstance(label, dict) else str(label),
                "required": bool(field.get("required")),
                "choices": choices_text(field.get("choices") or []),
                "places": str(field.get("places", "")) if field.get("type") == "decimal" else "",
            }
        )
    empty = {"name": "", "type": "text", "label_zh": "", "label_en": "", "required": False}
    return rows + [dict(empty, choices="", places="") for _ in range(EXTRA_ROWS)]


def choices_text(choices: list[dict]) -> str:
    """One choice a line: `value | 中文 | English`."""
    lines = []
    for choice in choices:
        label = choice.get("label") or {}
        zh = label.get("zh", "") if isinstance(label, dict) else str(label)
        en = label.get("en", "") if isinstance(label, dict) else str(label)
        lines.append(f"{choice.get('value', '')} | {zh} | {en}")
    return "\n".join(lines)


def _choices(text: str) -> list[dict]:
    choices = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value, zh, en = ([part.strip() for part in line.split("|")] + ["", ""])[:3]
        choices.append(
            {"value": value, "label": {"zh": zh or en or value, "en": en or zh or value}}
        )
    return choices


def definition_from_form(form, original: dict) -> dict:
    """The edited definition from the posted editor (`field-N-name`, ...); blank rows dropped."""
    kept = {f.get("name"): f for f in original.get("fields", []) if isinstance(f, dict)}
    fields = []
    index = 0
    while f"field-{index}-name" in form:
        name = form.get(f"field-{index}-name", "").strip()
        prefix = f"field-{index}-"
        index += 1
        if not name or form.get(prefix + "delete"):
            continue
        kind = form.get(prefix + "type", "text")
        field = dict(kept.get(name, {}))
        field.update(
            name=name,
            type=kind,  # an unknown type is refused by the check, with the allowed ones listed
            label={
                "zh": form.get(prefix + "label_zh", "").strip(),
                "en": form.get(prefix + "label_en", "").strip(),
            },
            required=bool(form.get(prefix + "required")),
        )
        if kind in CHOICE_TYPES:
            field["choices"] = _choices(form.get(prefix + "choices", ""))
        else:
            field.pop("choices", None)
        if kind != "decimal":
            field.pop("places", None)
        elif prefix + "places" in form:  # an editor without the column keeps what the JSON says
            _set_places(field, form.get(prefix + "places", "").strip())
        fields.append(field)
    return {**original, "fields": fields}


def _set_places(field: dict, text: str) -> None:
    """A number as a number, a name as it is (anything else is left to the check to refuse)."""
    if not text:
        field.pop("places", None)  # the default
    else:
        field["places"] = int(text) if is_digits(text) else text


def form_file(definition: dict) -> tuple[str, bytes]:
    text = json.dumps(definition, ensure_ascii=False, indent=2)
    return f"{definition['key']}.json", text.encode()
