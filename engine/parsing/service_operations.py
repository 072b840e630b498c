"""Service tasks against the operation registry: caught at upload, not when an instance runs.

A `<spiffworkflow:serviceTaskOperator id="crm.create_quote" resultVariable="quote">` must name a
registered operation; its `<spiffworkflow:parameter id="..." value="..."/>` children must be
parameters the operation takes, every required one given once, and each value a Python
expression the sandbox accepts.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator

from lxml import etree

from engine.operations.registry import get_operation
from engine.parsing.documents import NS
from engine.sandbox import ScriptError, check_syntax

DEFAULT_PARAMETER_TYPE = "any"


def operator_problems(
    operator: etree._Element, task_label: str
) -> Iterator[tuple[str, etree._Element]]:
    """(message, node) for each fault of one serviceTaskOperator."""
    name = (operator.get("id") or "").strip()
    found = get_operation(name)
    if found is None:
        yield (
            f"Service task '{task_label}' calls operation '{name}', which does not exist "
            "(GET /api/v1/operations lists them).",
            operator,
        )
        return
    result_variable = operator.get("resultVariable")
    if result_variable is not None and not _is_variable_name(result_variable.strip()):
        yield (
            f"The resultVariable of '{task_label}' must be a variable name (letters, digits and "
            f"'_', not starting with '_' or a digit), not '{result_variable}'.",
            operator,
        )
    known, seen = found.parameter_names(), set()
    for parameter in operator.xpath(
        "./spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS
    ):
        param_name = (parameter.get("id") or "").strip()
        if not param_name:
            yield f"A parameter of '{task_label}' has no id (the parameter name).", parameter
            continue
        if param_name not in known:
            yield (
                f"Operation '{name}' of '{task_label}' has no parameter '{param_name}'; it takes: "
                f"{', '.join(sorted(known)) or 'none'}.",
                parameter,
            )
            continue
        if param_name in seen:
            yield f"Parameter '{param_name}' of '{task_label}' is given twice.", parameter
        seen.add(param_name)
        value = parameter.get("value")
        if value is None or not value.strip():
            yield (
                f"Parameter '{param_name}' of '{task_label}' has no value: write a Python "
                "expression (a quoted string for text).",
                parameter,
            )
            continue
        try:
            check_syntax(value.strip(), "eval")
        except ScriptError as exc:
            yield (
                f"Parameter '{param_name}' of '{task_label}': {getattr(exc, 'message', exc)}",
                parameter,
            )
    for missing in sorted(found.required_names() - seen):
        yield f"Operation '{name}' of '{task_label}' needs parameter '{missing}'.", operator


def _is_variable_name(name: str) -> bool:
    return name.isidentifier() and not name.startswith("_") and not keyword.iskeyword(name)


def normalize_operators(root: etree._Element) -> None:
    """Fill in what Spiff's parser insists on: parameter types and the result variable."""
    for operator in root.xpath(".//spiffworkflow:serviceTaskOperator", namespaces=NS):
        found = get_operation((operator.get("id") or "").strip())
        if found is not None and not (operator.get("resultVariable") or "").strip():
            operator.set("resultVariable", found.result_variable)
        for parameter in operator.xpath(
            "./spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS
        ):
            if parameter.get("type") is None:
                parameter.set("type", DEFAULT_PARAMETER_TYPE)
            if parameter.get("value") is not None:
                parameter.set("value", parameter.get("value").strip())
