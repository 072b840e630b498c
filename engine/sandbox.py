"""Run untrusted BPMN scripts and expressions: RestrictedPython plus time, step and size budgets.

Uploaded BPMN is untrusted code. Three layers keep it in its box:

1. Compile time (RestrictedPython's policy, tightened): no imports, no classes, no `_`/dunder
   names or attributes, no bare `except:`. `check_syntax` runs this at upload, so most attacks
   are refused before they are stored.
2. Run time guards: whitelisted builtins only, `safer_getattr` (no `str.format`, no frame or
   code attributes), and size guards on the operators that can allocate without bound
   (`*`, `+`, `**`, `<<`, `%` on strings) and on `range`.
3. Budgets: the compiler inserts a `_tick_()` into every loop body, function body, lambda and
   comprehension. Each tick checks the wall-clock deadline, a step count and the process's
   resident memory growth, so `while True: pass` or a growing list ends within the budget.
   Budget breaches raise a BaseException subclass inside the script, which `except Exception`
   in the script cannot swallow; they reach the caller as `ScriptTimeout`/`ScriptResourceLimit`.
"""

from __future__ import annotations

import ast
import builtins
import decimal
import math
import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from RestrictedPython import (
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
)
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector

from core import clock

DEFAULT_TIMEOUT_SECONDS = 1.0
MAX_STEPS = 2_000_000  # loop iterations + function calls per script run
MAX_SEQUENCE_LENGTH = 1_000_000  # items or characters made by one operator or range()
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_MEMORY_GROWTH_BYTES = 256 * 1024 * 1024
MAX_FORMAT_WIDTH = 1_000
_MEMORY_CHECK_INTERVAL = 0.002  # seconds between resident-memory reads while a script runs


# --- errors the callers see ----------------------------------------------------------------------


class ScriptError(Exception):
    """A script or expression that cannot run; `message` is for the designer, `line` 1-based."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class ScriptSyntaxError(ScriptError):
    """Not valid Python."""


class ScriptViolation(ScriptError):
    """Valid Python that the sandbox forbids (imports, private names, ...)."""


class ScriptTimeout(ScriptError):
    """Ran past its time budget."""


class ScriptResourceLimit(ScriptError):
    """Asked for too much memory, too many steps or too deep a recursion."""


class _Abort(BaseException):
    """Raised inside the script when a budget is spent; `except Exception` cannot catch it."""

    def __init__(self, error_class: type[ScriptError], message: str):
        super().__init__(message)
        self.error_class = error_class
        self.message = message


# --- compile time --------------------------------------------------------------------------------


def _tick_call() -> ast.Call:
    return ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])


_GUARDED_OPERATORS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_"}
_GUARDED_OPERATORS.update({ast.LShift: "_lshift_", ast.Mod: "_mod_"})


class _WeftPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus budget ticks, operator guards and a few more refusals."""

    def visit_Module(self, node):
        return ast.fix_missing_locations(super().visit_Module(node))

    def visit_Expression(self, node):
        return ast.fix_missing_locations(super().visit_Expression(node))

    def visit_Import(self, node):
        self.error(node, "Imports are not allowed in Weft scripts; use the built-in helpers.")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "Class definitions are not allowed in Weft scripts.")
        return node

    def visit_Global(self, node):
        self.error(node, "'global' is not allowed in Weft scripts.")
        return node

    def visit_Nonlocal(self, node):
        self.error(node, "'nonlocal' is not allowed in Weft scripts.")
        return node

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.error(node, "A bare 'except:' is not allowed; name the exceptions to catch.")
        return super().visit_ExceptHandler(node)

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_tick_call()), node))
        return node

    def visit_For(self, node):
        node = super().visit_For(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_tick_call()), node))
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_tick_call()), node))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        node.body = ast.copy_location(ast.BoolOp(ast.And(), [_tick_call(), node.body]), node.body)
        return node

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.append(ast.copy_location(_tick_call(), node.iter))
        return node

    def visit_FormattedValue(self, node):
        """`f"{x:>{w}}"` becomes `f"{_format_(x, f'>{w}', conversion)}"`, which checks widths."""
        node = super().visit_FormattedValue(node)
        if node.format_spec is None:
            return node
        call = ast.Call(
            func=ast.Name("_format_", ast.Load()),
            args=[node.value, node.format_spec, ast.Constant(node.conversion)],
            keywords=[],
        )
        return ast.copy_location(
            ast.FormattedValue(value=call, conversion=-1, format_spec=None), node
        )

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)


_LINE_PREFIX = re.compile(r"^Line (\d+): (.*)$", re.DOTALL)
_compiled: OrderedDict[tuple[str, str], Any] = OrderedDict()
_COMPILE_CACHE_SIZE = 2048


def check_syntax(source: str, mode: str = "exec") -> None:
    """Raise ScriptSyntaxError/ScriptViolation unless the sandbox would accept `source`."""
    _compile(source, mode)


def _compile(source: str, mode: str):
    key = (mode, source)
    code = _compiled.get(key)
    if code is not None:
        _compiled.move_to_end(key)
        return code
    code = _compile_uncached(source, mode)
    _compiled[key] = code
    if len(_compiled) > _COMPILE_CACHE_SIZE:
        _compiled.popitem(last=False)
    return code


def _compile_uncached(source: str, mode: str):
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    if not isinstance(source, str) or not source.strip():
        raise ScriptSyntaxError("The script or expression is empty.")
    try:
        ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptSyntaxError(f"Syntax error: {exc.msg}", exc.lineno) from None
    except ValueError as exc:  # e.g. null bytes
        raise ScriptSyntaxError(f"Syntax error: {exc}") from None
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, filename="<string>", policy=_WeftPolicy)
    if result.errors:
        line, message = _split_line(result.errors[0])
        raise ScriptViolation(message, line)
    return result.code


def _split_line(error: str) -> tuple[int | None, str]:
    match = _LINE_PREFIX.match(error)
    if not match:
        return None, error
    return int(match.group(1)), match.group(2)


# --- run time guards -----------------------------------------------------------------------------


def _too_big(what: str) -> _Abort:
    return _Abort(ScriptResourceLimit, f"{what} is too large for a Weft script.")


def _length(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | tuple):
        return len(value)
    return None


def _guard_int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise _too_big("An integer")
    return value


def _add_(left: Any, right: Any) -> Any:
    a, b = _length(left), _length(right)
    if a is not None and b is not None and a + b > MAX_SEQUENCE_LENGTH:
        raise _too_big("The result of '+'")
    return left + right


def _mul_(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        size = _length(sequence)
        if (
            size is not None
            and isinstance(count, int)
            and size * max(count, 0) > MAX_SEQUENCE_LENGTH
        ):
            raise _too_big("The result of '*'")
    both_ints = isinstance(left, int) and isinstance(right, int)
    if both_ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise _too_big("The result of '*'")
    return left * right


def _pow_(base: Any, exponent: Any, modulus: Any = None) -> Any:
    integral = modulus is None and isinstance(base, int) and isinstance(exponent, int)
    huge = integral and exponent > 0 and abs(base) > 1
    if huge and exponent * math.log2(abs(base)) > MAX_INT_BITS:
        raise _too_big("The result of '**'")
    if modulus is None:
        return base**exponent
    return builtins.pow(base, exponent, modulus)


def _lshift_(value: Any, shift: Any) -> Any:
    if (
        isinstance(value, int)
        and isinstance(shift, int)
        and value
        and value.bit_length() + shift > MAX_INT_BITS
    ):
        raise _too_big("The result of '<<'")
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


def _mod_(left: Any, right: Any) -> Any:
    if isinstance(left, str | bytes):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        for number in _percent_numbers(text):
            if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
                raise _too_big("A '%' format width")
    return left % right


_CONVERSIONS = {ord("r"): repr, ord("s"): str, ord("a"): ascii}
_DIGIT_RUNS = re.compile(r"\d+")


def _format_(value: Any, spec: str, conversion: int) -> str:
    if any(len(run) > 4 or int(run) > MAX_FORMAT_WIDTH for run in _DIGIT_RUNS.findall(spec)):
        raise _too_big("A format width")
    if conversion in _CONVERSIONS:
        value = _CONVERSIONS[conversion](value)
    return format(value, spec)


_INPLACE = {
    "+=": _add_,
    "*=": _mul_,
    "**=": _pow_,
    "<<=": _lshift_,
    "%=": _mod_,
    "-=": lambda a, b: a - b,
    "/=": lambda a, b: a / b,
    "//=": lambda a, b: a // b,
    ">>=": lambda a, b: a >> b,
    "&=": lambda a, b: a & b,
    "|=": lambda a, b: a | b,
    "^=": lambda a, b: a ^ b,
}


def _inplacevar_(operator: str, left: Any, right: Any) -> Any:
    return _INPLACE[operator](left, right)


_WIDTH_METHODS = {"ljust", "rjust", "center", "zfill"}
_GUARDED_TEXT_METHODS = _WIDTH_METHODS | {"expandtabs", "replace", "translate", "join"}


def _getattr_(obj: Any, name: str, *default: Any) -> Any:
    value = safer_getattr(obj, name, *default)
    if isinstance(obj, str | bytes):
        return _guarded_text_method(obj, name, value)
    if isinstance(obj, type) and issubclass(obj, str | bytes) and name in _GUARDED_TEXT_METHODS:
        return _unbound_checked(obj, name, value)  # str.ljust(text, width)
    return value


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
            raise _too_big("The requested width")
        return method(width, *args)

    return call


def _replace_checked(text: Any, method: Callable) -> Callable:
    def call(old, new, *args, **kwargs):
        if len(new) > len(old) and old:
            grown = len(text) + text.count(old) * (len(new) - len(old))
            if grown > MAX_SEQUENCE_LENGTH:
                raise _too_big("The result of replace()")
        elif not old and len(text) + (len(text) + 1) * len(new) > MAX_SEQUENCE_LENGTH:
            raise _too_big("The result of replace()")  # '' matches around every character
        return method(old, new, *args, **kwargs)

    return call


def _expandtabs_checked(text: Any, method: Callable) -> Callable:
    def call(tabsize=8):
        tabsize = min(tabsize, MAX_FORMAT_WIDTH)
        tabs = text.count(b"\t" if isinstance(text, bytes) else "\t")
        if len(text) + tabs * max(tabsize, 0) > MAX_SEQUENCE_LENGTH:
            raise _too_big("The result of expandtabs()")
        return method(tabsize)

    return call


def _translate_checked(text: Any, method: Callable) -> Callable:
    def call(table, *args, **kwargs):
        pieces = table.values() if isinstance(table, dict) else table
        if isinstance(table, dict | list | tuple):
            longest = max((len(p) for p in pieces if isinstance(p, str | bytes)), default=1)
            if len(text) * longest > MAX_SEQUENCE_LENGTH:
                raise _too_big("The result of translate()")
        return method(table, *args, **kwargs)

    return call


def _join_checked(separator: Any, method: Callable) -> Callable:
    def call(iterable):
        items = list(iterable)
        size = len(separator) * max(len(items) - 1, 0)
        size += sum(len(item) for item in items if isinstance(item, str | bytes))
        if size > MAX_SEQUENCE_LENGTH:
            raise _too_big("The result of join()")
        return method(items)

    return call


def _getitem_(obj: Any, key: Any) -> Any:
    return obj[key]


def _safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_SEQUENCE_LENGTH:
        raise _too_big("The range")
    return result


def _safe_int(value: Any = 0, *args: Any) -> int:
    if isinstance(value, decimal.Decimal) and value.is_finite() and value.adjusted() > 4_300:
        raise _too_big("The number")
    return int(value, *args)


_MONEY_CONTEXT = decimal.Context(prec=34, Emax=100_000, Emin=-100_000)


def _safe_decimal(value: Any = "0") -> decimal.Decimal:
    """A Decimal whose exponent is bounded, so that later arithmetic stays small."""
    if isinstance(value, float):
        value = repr(value)
    return _MONEY_CONTEXT.create_decimal(value)


# --- helpers for designers (documented in docs/PROCESSES.md) -------------------------------------


def round_money(value: Any, places: int = 2) -> float:
    """Round half up to `places` decimals, the way accountants do (not banker's rounding)."""
    amount = _safe_decimal(value if isinstance(value, decimal.Decimal) else str(value))
    quantum = decimal.Decimal(1).scaleb(-int(places))
    return float(amount.quantize(quantum, rounding=decimal.ROUND_HALF_UP))


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 10:
            return clock.parse_instant(text).date()
        return date.fromisoformat(text)
    raise TypeError(f"Expected a date or an ISO date string, got {type(value).__name__}.")


def today() -> str:
    """Today's date (UTC) as an ISO string, e.g. '2026-11-23'."""
    return clock.now().date().isoformat()


def now() -> str:
    """The current instant as an ISO string in UTC."""
    return clock.now().isoformat()


def parse_date(value: Any) -> date:
    """A date from an ISO string (or a date/datetime), for comparisons and arithmetic."""
    return _as_date(value)


def add_days(value: Any, days: int) -> str:
    return (_as_date(value) + timedelta(days=int(days))).isoformat()


def add_months(value: Any, months: int) -> str:
    return (_as_date(value) + relativedelta(months=int(months))).isoformat()


def days_between(start: Any, end: Any) -> int:
    """Whole days from `start` to `end` (negative when `end` is earlier)."""
    return (_as_date(end) - _as_date(start)).days


def iso(value: Any) -> str:
    """A date, datetime or duration as its ISO-8601 string."""
    if isinstance(value, timedelta):
        return f"PT{int(value.total_seconds())}S"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


HELPERS: dict[str, Any] = {
    "round_money": round_money,
    "today": today,
    "now": now,
    "parse_date": parse_date,
    "add_days": add_days,
    "add_months": add_months,
    "days_between": days_between,
    "iso": iso,
    "Decimal": _safe_decimal,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "UTC": UTC,
}

_SAFE_BUILTIN_NAMES = """
abs all any bool chr dict divmod enumerate filter float frozenset hash isinstance len list map
max min ord repr reversed round set slice sorted str sum tuple zip
ArithmeticError Exception IndexError KeyError LookupError TypeError ValueError ZeroDivisionError
True False None
""".split()


def _base_builtins() -> dict[str, Any]:
    names = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES}
    names.update(
        range=_safe_range,
        pow=_pow_,
        int=_safe_int,
        _getattr_=_getattr_,
        _getitem_=_getitem_,
        _getiter_=iter,
        _write_=full_write_guard,
        _iter_unpack_sequence_=guarded_iter_unpack_sequence,
        _unpack_sequence_=guarded_unpack_sequence,
        _inplacevar_=_inplacevar_,
        _print_=PrintCollector,
        _add_=_add_,
        _mul_=_mul_,
        _pow_=_pow_,
        _lshift_=_lshift_,
        _mod_=_mod_,
        _format_=_format_,
    )
    return names


# --- budgets -------------------------------------------------------------------------------------


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _Budget:
    __slots__ = ("breach", "deadline", "memory_ceiling", "next_memory_check", "steps", "timeout")

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        resident = _resident_bytes()
        self.memory_ceiling = None if resident is None else resident + MAX_MEMORY_GROWTH_BYTES
        self.next_memory_check = 0.0
        self.steps = 0
        self.breach: _Abort | None = None  # the first breach, even if the script caught it

    def tick(self) -> bool:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self._abort(
                ScriptResourceLimit,
                f"The script ran more than {MAX_STEPS:,} steps (loop rounds and calls).",
            )
        moment = time.monotonic()
        if moment > self.deadline:
            self._abort(ScriptTimeout, f"The script ran longer than {self.timeout:g} s.")
        if self.memory_ceiling is not None and moment >= self.next_memory_check:
            self.next_memory_check = moment + _MEMORY_CHECK_INTERVAL
            resident = _resident_bytes()
            if resident is not None and resident > self.memory_ceiling:
                self._abort(ScriptResourceLimit, "The script used too much memory.")
        return True

    def _abort(self, error_class: type[ScriptError], message: str):
        abort = _Abort(error_class, message)
        if self.breach is None:
            self.breach = abort
        raise abort

    def raise_breach(self) -> None:
        """A breach the script caught (`except ValueError.mro()[-2]`, `finally: return`) still
        ends the run with the budget's error."""
        if self.breach is not None:
            breach = self.breach
            raise breach.error_class(breach.message, _script_line(breach)) from None

    def ticking_builtins(self) -> dict[str, Any]:
        """Builtins that loop in C over what the script gives them, made to tick per item."""
        tick = self.tick

        def map(function, *iterables):
            for item in builtins.map(function, *iterables):
                tick()
                yield item

        def filter(function, iterable):  # in Python: the builtin skips items without yielding
            for item in iterable:
                tick()
                if item if function is None else function(item):
                    yield item

        def sum(iterable, /, start=0):
            if _length(start) is None or isinstance(start, str | bytes):
                return builtins.sum(iterable, start)  # numbers (Python refuses strings itself)
            total = start  # lists or tuples: bounded by '+' and ticking, not quadratic in C
            for item in iterable:
                tick()
                total = _add_(total, item)
            return total

        return {"_tick_": tick, "map": map, "filter": filter, "sum": sum}


# --- running -------------------------------------------------------------------------------------


class Sandbox:
    """Evaluates expressions and executes scripts over a data dict, within budgets."""

    def __init__(
        self, helpers: Mapping[str, Any] | None = None, timeout_seconds: float | None = None
    ):
        self.timeout_seconds = timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        self.builtins = _base_builtins()
        self.builtins.update(HELPERS)
        self.builtins.update(helpers or {})

    def evaluate(self, expression: str, data: Mapping[str, Any], extra: Mapping | None = None):
        code = _compile(expression.strip(), "eval")
        scope, budget = self._scope(data, extra)
        return self._run(lambda: eval(code, scope), budget)

    def execute(
        self, script: str, data: dict[str, Any], extra: Mapping | None = None
    ) -> dict[str, Any]:
        """Run `script`; `data` is updated in place with what the script leaves behind."""
        code = _compile(script, "exec")
        scope, budget = self._scope(data, extra)
        self._run(lambda: exec(code, scope), budget)
        extra_names = set(extra or ())
        result = {}
        size = _StoredSize()
        for name, value in scope.items():
            if name == "__builtins__" or callable(value):
                continue
            if name in extra_names and value is extra[name]:
                continue
            result[name] = _storable(name, value, 0, size)
        data.clear()
        data.update(result)
        return data

    def _scope(
        self, data: Mapping[str, Any], extra: Mapping | None
    ) -> tuple[dict[str, Any], _Budget]:
        scope = dict(extra or ())
        scope.update(data)
        budget = _Budget(self.timeout_seconds)
        scope["__builtins__"] = {**self.builtins, **budget.ticking_builtins()}
        return scope, budget

    def _run(self, run: Callable[[], Any], budget: _Budget) -> Any:
        context = _MONEY_CONTEXT.copy()
        try:
            with decimal.localcontext(context):
                result = run()
        except _Abort as abort:
            raise abort.error_class(abort.message, _script_line(abort)) from None
        except RecursionError:
            raise ScriptResourceLimit("The script recursed too deeply.") from None
        except MemoryError:
            raise ScriptResourceLimit("The script used too much memory.") from None
        except decimal.Overflow:
            raise ScriptResourceLimit("A decimal number is too large.") from None
        except Exception:
            budget.raise_breach()  # e.g. a NameError raised while handling the budget's abort
            raise
        budget.raise_breach()
        return result


def _script_line(error: BaseException) -> int | None:
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<string>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


_SCALARS = (str, int, float, bool, type(None), datetime, timedelta)
MAX_STORED_ITEMS = 2 * MAX_SEQUENCE_LENGTH  # values (list items, dict entries) kept after a run
MAX_STORED_CHARACTERS = 16 * MAX_SEQUENCE_LENGTH  # characters of all the strings kept


class _StoredSize:
    """What one run's data adds up to, counting a shared list or string each time it appears
    (as JSON will): `[row] * 1000` is a thousand rows, not one."""

    __slots__ = ("characters", "items")

    def __init__(self):
        self.items = 0
        self.characters = 0

    def add(self, name: str, value: Any) -> None:
        self.items += 1
        if isinstance(value, str):
            self.characters += len(value)
        if self.items > MAX_STORED_ITEMS or self.characters > MAX_STORED_CHARACTERS:
            raise ScriptResourceLimit(f"Variable '{name}' is too large to keep in process data.")


def storable(name: str, value: Any, depth: int = 0) -> Any:
    """The value as process data can keep it (JSON-like); refuses what cannot be kept."""
    return _storable(name, value, depth, _StoredSize())


def _storable(name: str, value: Any, depth: int, size: _StoredSize) -> Any:
    size.add(name, value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if depth > 50:
        raise ScriptError(f"Variable '{name}' is nested too deeply to store.")
    if isinstance(value, list | tuple):
        return [_storable(name, item, depth + 1, size) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_storable(name, item, depth + 1, size) for item in value), key=repr)
    if isinstance(value, dict):
        return {str(key): _storable(name, item, depth + 1, size) for key, item in value.items()}
    raise ScriptError(
        f"Variable '{name}' holds a {type(value).__name__}, which process data cannot store."
    )


_default = Sandbox()


def evaluate(expression: str, data: Mapping[str, Any], extra: Mapping | None = None) -> Any:
    """Evaluate with the default helpers and time budget."""
    return _default.evaluate(expression, data, extra)


def execute(script: str, data: dict[str, Any], extra: Mapping | None = None) -> dict[str, Any]:
    return _default.execute(script, data, extra)
