"""What a run leaves in the process data: JSON-like copies, bounded in size, never shared.

Spiff deep-copies task data to the next task and Weft serializes it to JSON, both walking every
shared reference again, so the copy counts every appearance as JSON will. Counting alone would
take millions of steps to refuse `a = [a, a]` sixty times; so the first time the copy meets a
list or dict it has already copied (sharing, or a cycle), it measures all the variables with
the memoised walk of logical_size.py, which refuses such a structure at once. Data without
sharing, nearly all, pays only for remembering which containers it copied.
"""

from __future__ import annotations

import decimal
from collections.abc import MutableMapping
from datetime import date, datetime, timedelta
from typing import Any

from engine.sandbox.errors import ScriptError, ScriptResourceLimit
from engine.sandbox.limits import MAX_STORED_CHARACTERS, MAX_STORED_DEPTH, MAX_STORED_ITEMS
from engine.sandbox.logical_size import TooLarge, is_leaf, logical_size

_SCALARS = (str, int, float, bool, type(None), datetime, timedelta)
_PLAIN = frozenset({str, int, float, bool, type(None)})
_STORED_LIMIT = MAX_STORED_ITEMS + MAX_STORED_CHARACTERS


class _StoredSize:
    """What one run's data adds up to, counting a shared list or string each time it appears
    (as JSON will): `[row] * 1000` is a thousand rows, not one."""

    __slots__ = ("characters", "items", "measured", "seen", "variables")

    def __init__(self, variables: dict[str, Any]):
        self.items = 0
        self.characters = 0
        self.variables = variables
        self.seen: set[int] = set()  # containers copied so far
        self.measured = False

    def container(self, value: Any) -> None:
        """Called for every container copied: the second visit to one means sharing."""
        key = id(value)
        if key not in self.seen:
            self.seen.add(key)
        elif not self.measured:
            self.measured = True
            measured = 0
            for name, variable in self.variables.items():
                measured += _measure(name, variable)
                if measured > _STORED_LIMIT:
                    raise _too_large(name)

    def add(self, name: str, value: Any) -> None:
        self.items += 1
        if isinstance(value, str):
            self.characters += len(value)
        if self.items > MAX_STORED_ITEMS or self.characters > MAX_STORED_CHARACTERS:
            raise _too_large(name)

    def add_plain(self, name: str, values: list | tuple) -> None:
        """A list of numbers and strings, in one step."""
        self.items += len(values)
        self.characters += sum(map(len, [v for v in values if type(v) is str]))
        if self.items > MAX_STORED_ITEMS or self.characters > MAX_STORED_CHARACTERS:
            raise _too_large(name)


def _too_large(name: str) -> ScriptResourceLimit:
    return ScriptResourceLimit(f"Variable '{name}' is too large to keep in process data.")


def _measure(name: str, value: Any) -> int:
    """The value's logical size; refuses one whose copy would be too large (or endless: a
    cycle) before anything is copied."""
    if is_leaf(value):
        return 1 + len(value) if isinstance(value, str) else 1
    try:
        return logical_size(value, _STORED_LIMIT, cycles_allowed=False)
    except TooLarge as exc:
        if exc.cyclic:
            raise ScriptError(
                f"Variable '{name}' contains itself, which cannot be stored."
            ) from None
        raise _too_large(name) from None


def storable(name: str, value: Any, depth: int = 0) -> Any:
    """The value as process data can keep it (JSON-like); refuses what cannot be kept."""
    return _storable(name, value, depth, _StoredSize({name: value}))


def storable_variables(variables: dict[str, Any]) -> dict[str, Any]:
    """Copies of a run's variables, within one size budget for all of them."""
    size = _StoredSize(variables)
    return {name: _storable(name, value, 0, size) for name, value in variables.items()}


def _storable(name: str, value: Any, depth: int, size: _StoredSize) -> Any:
    size.add(name, value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if depth > MAX_STORED_DEPTH:
        raise ScriptResourceLimit(f"Variable '{name}' is nested too deeply to store.")
    size.container(value)
    if isinstance(value, list | tuple):
        if len(value) > 32 and set(map(type, value)) <= _PLAIN:  # counted and copied in C
            size.add_plain(name, value)
            return list(value)
        return [_storable(name, item, depth + 1, size) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_storable(name, item, depth + 1, size) for item in value), key=repr)
    if isinstance(value, dict):
        return {str(key): _storable(name, item, depth + 1, size) for key, item in value.items()}
    raise ScriptError(
        f"Variable '{name}' holds a {type(value).__name__}, which process data cannot store."
    )


def remove_unkeepable(data: MutableMapping[str, Any]) -> None:
    """After a run that did not store its variables (an expression, or a script that failed):
    the script may have changed the data's lists and dicts in place. Anything it made too large
    or cyclic for Spiff's copy and the JSON serializer is removed, and the run refused."""
    removed = []
    for name, value in list(data.items()):
        if is_leaf(value):
            continue
        try:
            logical_size(value, _STORED_LIMIT, cycles_allowed=False)
        except TooLarge:
            del data[name]
            removed.append(name)
    if removed:
        names = ", ".join(f"'{name}'" for name in removed)
        raise ScriptResourceLimit(
            f"The script made {names} too large (or made it contain itself) to keep in process "
            "data; it was removed from the data."
        )
