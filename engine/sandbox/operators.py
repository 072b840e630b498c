"""Run-time guards the compiler calls instead of operators, comparisons, subscripts and
f-string fields: sizes are checked before C allocates or walks anything."""

from __future__ import annotations

import builtins
import decimal
import math
import operator
import re
from typing import Any

from engine.sandbox import budget
from engine.sandbox.errors import too_big
from engine.sandbox.limits import (
    BIG_ALLOCATION,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_INT_DIGITS,
    MAX_SEQUENCE_LENGTH,
)
from engine.sandbox.walks import _LEAVES, ensure_walkable


def sequence_length(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | tuple):
        return len(value)
    return None


def _allocating(size: int, what: str) -> None:
    """Refuse a result over the limit; tick the budget before a big one (straight-line code
    that allocates in every statement is held to the memory budget too)."""
    if size > MAX_SEQUENCE_LENGTH:
        raise too_big(what)
    if size > BIG_ALLOCATION:
        budget.charge()


def add(left: Any, right: Any) -> Any:
    a, b = sequence_length(left), sequence_length(right)
    if a is not None and b is not None:
        _allocating(a + b, "The result of '+'")
    return left + right


def mul(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        size = sequence_length(sequence)
        if size is not None and isinstance(count, int):
            _allocating(size * max(count, 0), "The result of '*'")
    both_ints = isinstance(left, int) and isinstance(right, int)
    if both_ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise too_big("The result of '*'")
    return left * right


def pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    integral = modulus is None and isinstance(base, int) and isinstance(exponent, int)
    huge = integral and exponent > 0 and abs(base) > 1
    if huge and exponent * math.log2(abs(base)) > MAX_INT_BITS:
        raise too_big("The result of '**'")
    if modulus is None:
        return base**exponent
    return builtins.pow(base, exponent, modulus)


def lshift(value: Any, shift: Any) -> Any:
    if (
        isinstance(value, int)
        and isinstance(shift, int)
        and value
        and value.bit_length() + shift > MAX_INT_BITS
    ):
        raise too_big("The result of '<<'")
    return value << shift


_PERCENT_SPEC = re.compile(r"[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _percent_numbers(text: str) -> list[str]:
    """Width and precision of every `%` conversion, read the way CPython's `%` reads them."""
    numbers: list[str] = []
    position = 0
    while (position := text.find("%", position) + 1) > 0:
        if text.startswith("%", position):  # "%%"
            position += 1
            continue
        if text.startswith("(", position):  # a mapping key; CPython counts nested parentheses
            depth = 0
            while position < len(text):
                depth += {"(": 1, ")": -1}.get(text[position], 0)
                position += 1
                if depth == 0:
                    break
        spec = _PERCENT_SPEC.match(text, position)
        numbers.extend(spec.groups(""))
        position = spec.end()
    return numbers


def mod(left: Any, right: Any) -> Any:
    if isinstance(left, str | bytes):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        for number in _percent_numbers(text):
            if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
                raise too_big("A '%' format width")
        ensure_walkable(right)  # '%s' % (value,) is str(value)
    return left % right


_CONVERSIONS = {ord("r"): builtins.repr, ord("s"): str, ord("a"): builtins.ascii}
_DIGIT_RUNS = re.compile(r"\d+")


def check_format_spec(spec: str) -> None:
    if spec and any(len(r) > 4 or int(r) > MAX_FORMAT_WIDTH for r in _DIGIT_RUNS.findall(spec)):
        raise too_big("A format width")


def format_field(value: Any, spec: str, conversion: int) -> str:
    """An f-string field `{value!conversion:spec}`."""
    check_format_spec(spec)
    ensure_walkable(value)
    if conversion in _CONVERSIONS:
        value = _CONVERSIONS[conversion](value)
    return format(value, spec)


def _set_operator(operation):
    """`-`, `&`, `|`, `^`: numbers at once; sets and dict views hash the other operand's items,
    so both are measured first."""

    def guarded(left: Any, right: Any) -> Any:
        if type(left) not in _LEAVES or type(right) not in _LEAVES:
            ensure_walkable(left)
            ensure_walkable(right)
        return operation(left, right)

    return guarded


sub = _set_operator(operator.sub)
and_ = _set_operator(operator.and_)
or_ = _set_operator(operator.or_)
xor = _set_operator(operator.xor)


_INPLACE = {
    "+=": add,
    "*=": mul,
    "**=": pow,
    "<<=": lshift,
    "%=": mod,
    "-=": sub,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    ">>=": operator.rshift,
    "&=": and_,
    "|=": or_,
    "^=": xor,
}


def inplace(op: str, left: Any, right: Any) -> Any:
    return _INPLACE[op](left, right)


_COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda item, container: item in container,
    "not in": lambda item, container: item not in container,
}


def compare(left: Any, op: str, right: Any) -> Any:
    """`left op right`. Only two containers compare deeply (a number or string against anything
    is decided at once), so only then are both measured."""
    if type(left) not in _LEAVES and type(right) not in _LEAVES:
        ensure_walkable(left)
        ensure_walkable(right)
    return _COMPARISONS[op](left, right)


def walkable(value: Any) -> Any:
    """An operand of a chained comparison (`a < b < c`): measured on its own."""
    return ensure_walkable(value)


def hashable(value: Any) -> Any:
    """A dict key or set member: hashing a tuple walks it (tuples do not cache their hash)."""
    if type(value) is tuple:
        ensure_walkable(value)
    return value


def getitem(obj: Any, key: Any) -> Any:
    if type(key) is tuple:
        ensure_walkable(key)
    return obj[key]


def safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_SEQUENCE_LENGTH:
        raise too_big("The range")
    return result


def safe_int(value: Any = 0, *args: Any) -> int:
    if isinstance(value, decimal.Decimal) and value.is_finite() and value.adjusted() > 4_300:
        raise too_big("The number")
    if isinstance(value, str | bytes) and len(value) > MAX_INT_DIGITS + 100:  # signs, '_', spaces
        raise too_big("The number")
    try:
        return int(value, *args)
    except ValueError as exc:
        if "Exceeds the limit" in str(exc):
            raise too_big("The number") from None
        raise


MONEY_CONTEXT = decimal.Context(prec=34, Emax=100_000, Emin=-100_000)


def safe_decimal(value: Any = "0") -> decimal.Decimal:
    """A Decimal whose exponent is bounded, so that later arithmetic stays small."""
    if isinstance(value, float):
        value = repr(value)
    return MONEY_CONTEXT.create_decimal(value)


def ticking_sum(iterable: Any, /, start: Any = 0) -> Any:
    if sequence_length(start) is None or isinstance(start, str | bytes):
        return builtins.sum(iterable, start)  # numbers (Python refuses strings itself)
    total = start  # lists or tuples: bounded by '+' and ticking, not quadratic in C
    for item in iterable:
        budget.charge()
        total = add(total, item)
    return total
