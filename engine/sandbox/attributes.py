"""Attribute access from scripts: RestrictedPython's `safer_getattr` (no `_` names, no frame or
code attributes, no `str.format`), with the text methods that can amplify a string and the
container methods that walk their arguments guarded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from RestrictedPython.Guards import safer_getattr

from engine.sandbox.errors import ScriptViolation, too_big
from engine.sandbox.limits import MAX_FORMAT_WIDTH, MAX_SEQUENCE_LENGTH
from engine.sandbox.walks import real_type, walking_method

_FORMAT_METHODS = {"format", "format_map"}


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    obj = real_type(obj)  # `str.upper` on the stand-in for `str` is the real `str.upper`
    if name in _FORMAT_METHODS and (isinstance(obj, str) or obj is str):
        raise ScriptViolation(
            "str.format() and format_map() are not allowed in Weft scripts (they can reach "
            "attributes); use f-strings or '%' instead."
        )
    value = safer_getattr(obj, name, *default)
    if isinstance(obj, str | bytes):
        return _guarded_text_method(obj, name, value)
    if isinstance(obj, type) and issubclass(obj, str | bytes) and name in _GUARDED_TEXT_METHODS:
        return _unbound_checked(obj, name, value)  # str.ljust(text, width)
    return walking_method(obj, name, value)


_WIDTH_METHODS = {"ljust", "rjust", "center", "zfill"}
_GUARDED_TEXT_METHODS = _WIDTH_METHODS | {"expandtabs", "replace", "translate", "join"}


def _guarded_text_method(text: str | bytes, name: str, method: Callable) -> Callable:
    if name in _WIDTH_METHODS:
        return _width_checked(method)
    if name == "expandtabs":
        return _expandtabs_checked(text, method)
    if name == "replace":
        return _replace_checked(text, method)
    if name == "translate":
        return _translate_checked(text, method)
    if name == "join":
        return _join_checked(text, method)
    return method


def _unbound_checked(kind: type, name: str, function: Callable) -> Callable:
    def call(text, *args, **kwargs):
        if not isinstance(text, kind):
            return function(text, *args, **kwargs)  # Python's own TypeError
        return _guarded_text_method(text, name, getattr(text, name))(*args, **kwargs)

    return call


def _width_checked(method: Callable) -> Callable:
    def call(width, *args):
        if isinstance(width, int) and width > MAX_SEQUENCE_LENGTH:
            raise too_big("The requested width")
        return method(width, *args)

    return call


def _replace_checked(text: Any, method: Callable) -> Callable:
    def call(old, new, *args, **kwargs):
        if len(new) > len(old) and old:
            grown = len(text) + text.count(old) * (len(new) - len(old))
            if grown > MAX_SEQUENCE_LENGTH:
                raise too_big("The result of replace()")
        elif not old and len(text) + (len(text) + 1) * len(new) > MAX_SEQUENCE_LENGTH:
            raise too_big("The result of replace()")  # '' matches around every character
        return method(old, new, *args, **kwargs)

    return call


def _expandtabs_checked(text: Any, method: Callable) -> Callable:
    def call(tabsize=8):
        tabsize = min(tabsize, MAX_FORMAT_WIDTH)
        tabs = text.count(b"\t" if isinstance(text, bytes) else "\t")
        if len(text) + tabs * max(tabsize, 0) > MAX_SEQUENCE_LENGTH:
            raise too_big("The result of expandtabs()")
        return method(tabsize)

    return call


def _translate_checked(text: Any, method: Callable) -> Callable:
    def call(table, *args, **kwargs):
        pieces = table.values() if isinstance(table, dict) else table
        if isinstance(table, dict | list | tuple):
            longest = max((len(p) for p in pieces if isinstance(p, str | bytes)), default=1)
            if len(text) * longest > MAX_SEQUENCE_LENGTH:
                raise too_big("The result of translate()")
        return method(table, *args, **kwargs)

    return call


def _join_checked(separator: Any, method: Callable) -> Callable:
    def call(iterable):
        items = list(iterable)
        size = len(separator) * max(len(items) - 1, 0)
        size += sum(len(item) for item in items if isinstance(item, str | bytes))
        if size > MAX_SEQUENCE_LENGTH:
            raise too_big("The result of join()")
        return method(items)

    return call
