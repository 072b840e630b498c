"""The builtins a script sees: safe ones, guarded stand-ins, the compiler's guard hooks, and
refusals with a clear message for the dangerous ones (rather than a bare NameError)."""

from __future__ import annotations

import builtins
from typing import Any

from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)

from engine.sandbox import operators, walks
from engine.sandbox.budget import ticking_filter, ticking_map
from engine.sandbox.errors import ScriptViolation
from engine.sandbox.imports import restricted_import

SAFE_BUILTIN_NAMES = """
abs all any bool chr divmod enumerate float isinstance len list next ord reversed round slice
tuple zip
ArithmeticError Exception IndexError KeyError LookupError TypeError ValueError ZeroDivisionError
True False None
""".split()

# Names a designer might try; each refuses with a ScriptViolation that says so. `iter` is here
# because `iter(callable, sentinel)` loops in C without ever ticking the budget.
REFUSED_BUILTIN_NAMES = """
open getattr setattr delattr hasattr type vars dir globals locals compile object super id
input help exit quit memoryview bytearray classmethod staticmethod property iter callable
""".split()


def _refusal(name: str):
    def refused(*args: Any, **kwargs: Any):
        raise ScriptViolation(f"'{name}' is not available in Weft scripts.")

    refused.__name__ = name
    return refused


def base_builtins() -> dict[str, Any]:
    names = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
    names.update({name: _refusal(name) for name in REFUSED_BUILTIN_NAMES})
    names.update(walks.STAND_INS)
    names.update(
        repr=walks.repr,
        ascii=walks.ascii,
        format=walks.format,
        hash=walks.hash,
        sorted=walks.sorted,
        min=walks.min,
        max=walks.max,
        range=operators.safe_range,
        pow=operators.pow,
        int=operators.safe_int,
        map=ticking_map,
        filter=ticking_filter,
        sum=operators.ticking_sum,
        __import__=restricted_import,
    )
    names.update(
        _getattr_=_getattr_hook(),
        _getitem_=operators.getitem,
        _getiter_=iter,
        _write_=full_write_guard,
        _iter_unpack_sequence_=guarded_iter_unpack_sequence,
        _unpack_sequence_=guarded_unpack_sequence,
        _inplacevar_=operators.inplace,
        _print_=walks.CheckedPrintCollector,
        _add_=operators.add,
        _mul_=operators.mul,
        _pow_=operators.pow,
        _lshift_=operators.lshift,
        _mod_=operators.mod,
        _sub_=operators.sub,
        _and_=operators.and_,
        _or_=operators.or_,
        _xor_=operators.xor,
        _format_=operators.format_field,
        _compare_=operators.compare,
        _walkable_=operators.walkable,
        _hashable_=operators.hashable,
    )
    return names


def _getattr_hook():
    from engine.sandbox.attributes import guarded_getattr

    return guarded_getattr
