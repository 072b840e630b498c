"""The service-task operations BPMN calls by name: `crm.create_quote`, `notify.send`, ...

An operation is a plain function `(ctx, params) -> result` registered with `@operation(...)`:

- `name`: what `<spiffworkflow:serviceTaskOperator id="...">` says, `family.verb_noun`;
- `schema`: a marshmallow schema for the parameters. Each `<spiffworkflow:parameter>` value is a
  sandboxed expression evaluated against the task data; the results are loaded through the schema,
  so the function receives clean, typed values (and a designer gets field-level messages);
- `result_variable`: the task-data variable the result goes to when the BPMN names none;
- the function's docstring is the description designers see in `GET /api/v1/operations`.

Upload checks (engine.parsing.bpmn_checks) refuse unknown operations, unknown or missing
parameters and parameter expressions that do not compile, so these mistakes never reach run time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields

from core.errors import Invalid

OperationFunction = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Operation:
    name: str
    description: str
    schema: type[Schema]
    result_variable: str
    result: str  # what the result holds, for designers
    function: OperationFunction

    @property
    def parameters(self) -> list[Parameter]:
        return [
            Parameter(
                name=field.data_key or name,
                type=type_name(field),
                required=field.required,
                description=str(field.metadata.get("description", "")),
            )
            for name, field in self.schema().fields.items()
            if not field.dump_only
        ]

    def parameter_names(self) -> set[str]:
        return {p.name for p in self.parameters}

    def required_names(self) -> set[str]:
        return {p.name for p in self.parameters if p.required}

    def load_params(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The evaluated parameter values through the schema; Invalid with field messages."""
        try:
            return self.schema().load(raw)
        except ValidationError as exc:
            messages = exc.normalized_messages()
            details = {k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()}
            raise Invalid(
                f"The parameters of operation '{self.name}' are not valid.", details=details
            ) from None


_registry: dict[str, Operation] = {}


class DuplicateOperation(RuntimeError):
    pass


def operation(
    name: str, schema: type[Schema], *, result_variable: str, result: str = ""
) -> Callable[[OperationFunction], OperationFunction]:
    """Register the decorated function as the operation `name`."""

    def register(function: OperationFunction) -> OperationFunction:
        existing = _registry.get(name)
        if existing is not None and existing.function is not function:
            if _same_source(existing.function, function):
                pass  # the same module imported twice (e.g. reloaded in a test): keep the newest
            else:
                raise DuplicateOperation(f"Operation '{name}' is registered twice.")
        _registry[name] = Operation(
            name=name,
            description=inspect.cleandoc(function.__doc__ or ""),
            schema=schema,
            result_variable=result_variable,
            result=result,
            function=function,
        )
        return function

    return register


def _same_source(a: Callable, b: Callable) -> bool:
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def get_operation(name: str) -> Operation | None:
    _load_families()
    return _registry.get(name)


def all_operations() -> list[Operation]:
    _load_families()
    return [_registry[name] for name in sorted(_registry)]


_loaded = False


def _load_families() -> None:
    """Import every module of engine/operations/, so that each registers its operations.

    A helper adding a family only drops a module in the package: no list to edit.
    """
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    import engine.operations as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{package.__name__}.{module.name}")
    _loaded = True


_INFRASTRUCTURE = {"registry", "context", "calling", "read_helpers"}


# --- parameter types as designers read them -------------------------------------------------------

_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (fields.Boolean, "boolean"),
    (fields.Integer, "integer"),
    (fields.Decimal, "number"),
    (fields.Float, "number"),
    (fields.Number, "number"),
    (fields.DateTime, "datetime"),
    (fields.Date, "date"),
    (fields.Email, "email"),
    (fields.String, "string"),
    (fields.List, "array"),
    (fields.Dict, "object"),
    (fields.Nested, "object"),
)


def type_name(field: fields.Field) -> str:
    for field_class, name in _TYPE_NAMES:
        if isinstance(field, field_class):
            return name
    return "any"
