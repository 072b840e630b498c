"""Guards for the builtins and methods that walk a value in C (see logical_size.py).

Each checks the logical size of what it is about to walk, then calls the real thing. Values
that C handles in time proportional to their memory (numbers, strings, dates) skip the walk, so
ordinary scripts pay one type check.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from RestrictedPython.PrintCollector import PrintCollector

from engine.sandbox.errors import too_big
from engine.sandbox.logical_size import LEAVES, TooLarge, logical_size

_LEAVES = LEAVES | {str, bytes}
_CONTAINERS = (list, tuple, set, frozenset, dict)


def ensure_walkable(value: Any) -> Any:
    """`value`, unless walking it in C would take too long (ScriptResourceLimit)."""
    if type(value) in _LEAVES:
        return value
    try:
        logical_size(value)
    except TooLarge:
        raise too_big("The value (counting every shared or repeated part)") from None
    return value


def walkable_items(iterable: Any) -> Any:
    """An argument C will walk item by item: containers are measured; iterators, which cannot
    be measured without consuming them, are read into a list first (C would do the same)."""
    if type(iterable) in _LEAVES:
        return iterable
    if not isinstance(iterable, _CONTAINERS):
        iterable = builtins.list(iterable)
    return ensure_walkable(iterable)


def _checked_key(key: Callable | None) -> Callable | None:
    if key is None:
        return None
    return lambda item: ensure_walkable(key(item))


# --- plain functions -----------------------------------------------------------------------------


def repr(value: Any) -> str:
    return builtins.repr(ensure_walkable(value))


def ascii(value: Any) -> str:
    return builtins.ascii(ensure_walkable(value))


def format(value: Any, spec: str = "") -> str:
    from engine.sandbox.operators import check_format_spec

    check_format_spec(spec)
    return builtins.format(ensure_walkable(value), spec)


def hash(value: Any) -> int:
    return builtins.hash(ensure_walkable(value))


def sorted(iterable: Any, /, *, key: Callable | None = None, reverse: bool = False) -> list:
    return builtins.sorted(walkable_items(iterable), key=_checked_key(key), reverse=reverse)


def _extreme(choose: Callable) -> Callable:
    def extreme(*args: Any, key: Callable | None = None, **kwargs: Any) -> Any:
        args = (walkable_items(args[0]),) if len(args) == 1 else ensure_walkable(args)
        return choose(*args, key=_checked_key(key), **kwargs)

    extreme.__name__ = choose.__name__
    return extreme


min = _extreme(builtins.min)
max = _extreme(builtins.max)


# --- types: calling them checks; isinstance and their attributes see the real type ------------


class StandIn(type):
    """The metaclass of a stand-in for a builtin type that walks its argument when called."""

    real: type
    check: Callable

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and type(args[0]) in _LEAVES:
            return cls.real(args[0])  # str(number): the common case, nothing to walk
        args, kwargs = cls.check(args, kwargs)
        return cls.real(*args, **kwargs)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls.real)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.real)

    def __repr__(cls) -> str:
        return builtins.repr(cls.real)


def _stand_in(real: type, check: Callable) -> StandIn:
    return StandIn(real.__name__, (), {"real": real, "check": staticmethod(check)})


def _first_value_walked(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    if args:
        ensure_walkable(args[0])  # str(x) is repr(x) for containers
    return args, kwargs


def _first_items_walked(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    if args:
        args = (walkable_items(args[0]), *args[1:])
    if kwargs:
        ensure_walkable(kwargs)
    return args, kwargs


STAND_INS = {
    "str": _stand_in(str, _first_value_walked),
    "set": _stand_in(set, _first_items_walked),
    "frozenset": _stand_in(frozenset, _first_items_walked),
    "dict": _stand_in(dict, _first_items_walked),
}


def real_type(value: Any) -> Any:
    """The builtin type behind a stand-in (for attribute access: `str.upper`, `dict.fromkeys`)."""
    return value.real if type(value) is StandIn else value


# --- methods of containers that compare or hash what they are given -----------------------------

_WALKING_METHODS = {
    list: {"index", "count", "remove", "sort"},
    tuple: {"index", "count"},
    dict: {"get", "pop", "setdefault", "fromkeys", "update"},
    set: {"add", "discard", "remove", "update", "union", "intersection", "difference"},
    frozenset: {"union", "intersection", "difference"},
}
for _kind in (set, frozenset):
    _WALKING_METHODS[_kind] |= {"issubset", "issuperset", "isdisjoint", "symmetric_difference"}
_WALKING_METHODS[set] |= {
    "intersection_update",
    "difference_update",
    "symmetric_difference_update",
}


def walking_method(obj: Any, name: str, method: Any) -> Any:
    """The method, checking its arguments (and, for sort, the list) when it walks them."""
    owner = obj if isinstance(obj, type) else type(obj)
    names = _WALKING_METHODS.get(owner)
    if names is None or name not in names:
        return method
    if name == "sort":

        def sort(*, key: Callable | None = None, reverse: bool = False) -> None:
            ensure_walkable(obj)
            return method(key=_checked_key(key), reverse=reverse)

        return sort

    def call(*args: Any, **kwargs: Any) -> Any:
        args = tuple(walkable_items(arg) for arg in args)
        if kwargs:
            ensure_walkable(kwargs)
        if type(obj) is list:
            ensure_walkable(obj)  # index/count/remove compare every item with the argument
        return method(*args, **kwargs)

    return call


class CheckedPrintCollector(PrintCollector):
    """`print(x)` formats `x` in C, like str()."""

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        for value in objects:
            ensure_walkable(value)
        super()._call_print(*objects, **kwargs)
