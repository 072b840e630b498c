"""Reminder message templates: `{customer.name}` placeholders, filled without any evaluation.

A placeholder is looked up by its exact text in a flat dict of prepared values; nothing is ever
called, indexed or walked, so a template cannot reach anything it was not given. `{{` and `}}`
write literal braces.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
NAME = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z0-9_]*)?$")
# Friendly names for the record numbers people think of.
ALIASES = {"number": ("contract_no", "quote_no", "order_no", "request_no", "code")}
GENERAL = ("due_date", "date", "days", "holiday", "rule.name", "owner.name", "today")


def placeholders(template: str) -> tuple[list[str], list[str]]:
    """(names used, problems) of a template."""
    names, problems = [], []
    for match in PLACEHOLDER.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            problems.append("An unmatched brace; write {{ or }} for a literal brace.")
        elif not NAME.match(name.strip()):
            problems.append(f"{{{name}}} is not a placeholder; use names like {{customer.name}}.")
        else:
            names.append(name.strip())
    return names, problems


def render(template: str, values: dict[str, Any]) -> str:
    """The template with each known placeholder replaced; unknown ones are left as written."""

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = (match.group(1) or "").strip()
        if name in values:
            return display(values[name])
        return token

    return PLACEHOLDER.sub(replace, template)


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "是/yes" if value else "否/no"
    return str(value)


def record_values(prefix: str, record: Any, columns: list[str]) -> dict[str, Any]:
    """`{prefix.column: value}` for the given plain columns of a record (and its number)."""
    values = {f"{prefix}.{name}": getattr(record, name, None) for name in columns}
    for alias, candidates in ALIASES.items():
        for candidate in candidates:
            if candidate in columns:
                values[f"{prefix}.{alias}"] = getattr(record, candidate, None)
                break
    return values
