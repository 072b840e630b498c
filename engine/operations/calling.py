"""Running one operation for a service task: parameters in, JSON result out, errors readable."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.errors import WeftError
from engine.operations.context import current_context
from engine.operations.registry import get_operation


class OperationFailed(Exception):
    """An operation that could not do its work; the message is what the incident shows."""

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


def call_operation(name: str, evaluated: dict[str, Any]) -> str:
    """Run operation `name` with Spiff's evaluated parameters; the result as a JSON string.

    `evaluated` is `{parameter: {"value": ..., "type": ...}}` as Spiff's ServiceTask passes it.
    The work runs in a savepoint: a failing operation leaves nothing half-written behind.
    """
    found = get_operation(name)
    if found is None:
        raise OperationFailed(f"Operation '{name}' does not exist.")
    ctx = current_context()
    raw = {
        key: item.get("value") if isinstance(item, dict) else item
        for key, item in evaluated.items()
    }
    try:
        params = found.load_params(raw)
        with ctx.session.begin_nested():
            result = found.function(ctx, params)
    except WeftError as exc:
        raise OperationFailed(
            f"{name}: {_readable(exc.message, exc.details)}", exc.details
        ) from exc
    except SQLAlchemyError as exc:
        raise OperationFailed(
            f"{name}: the database refused the change ({type(exc).__name__})."
        ) from exc
    try:
        return json.dumps(result, default=_plain, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise OperationFailed(
            f"{name}: its result cannot be stored in process data: {exc}"
        ) from exc


def _plain(value: Any) -> Any:
    from crm_domain.audit import plain

    converted = plain(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return converted


def _readable(message: str, details: Any) -> str:
    """The error's message with its field messages, on one line for the incident list."""
    if isinstance(details, dict) and details:
        parts = []
        for key, messages in details.items():
            items = messages if isinstance(messages, list) else [messages]
            text = "; ".join(str(m).rstrip(".") for m in items)
            parts.append(f"{key}: {text}" if key else text)
        return f"{message.rstrip('.')}: {', '.join(parts)}."
    return message
