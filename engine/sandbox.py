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

    visit_Nonlocal = visit_Global

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
    if isinstance(value, int) and isinstance(shift, int) and value and shift > MAX_INT_BITS:
        raise _too_big("The result of '<<'")
    return value << shift


_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _mod_(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        for width, precision in _FORMAT_WIDTH.findall(left):
            for number in (width, precision):
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


def _getattr_(obj: Any, name: str, *default: Any) -> Any:
    value = safer_getattr(obj, name, *default)
    if isinstance(obj, str | bytes):
        if name in _WIDTH_METHODS:
            return _width_checked(value)
        if name == "expandtabs":
            return lambda tabsize=8: value(min(tabsize, MAX_FORMAT_WIDTH))
        if name == "replace":
            return _replace_checked(obj, value)
    return value


def _width_checked(method: Callable) -> Callable:
    def call(width, *args):
        if isinstance(width, int) and width > MAX_SEQUENCE_LENGTH:
            raise _too_big("The requested width")
        return method(width, *args)

    return call


def _replace_checked(text: Any, method: Callable) -> Callable:
    def call(old, new, *args):
        if len(new) > len(old) and old:
            grown = len(text) + text.count(old) * (len(new) - len(old))
            if grown > MAX_SEQUENCE_LENGTH:
                raise _too_big("The result of replace()")
        elif not old and len(text) * len(new) > MAX_SEQUENCE_LENGTH:
            raise _too_big("The result of replace()")
        return method(old, new, *args)

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
    __slots__ = ("deadline", "memory_ceiling", "next_memory_check", "steps", "timeout")

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        resident = _resident_bytes()
        self.memory_ceiling = None if resident is None else resident + MAX_MEMORY_GROWTH_BYTES
        self.next_memory_check = 0.0
        self.steps = 0

    def tick(self) -> bool:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Abort(
                ScriptResourceLimit,
                f"The script ran more than {MAX_STEPS:,} steps (loop rounds and calls).",
            )
        moment = time.monotonic()
        if moment > self.deadline:
            raise _Abort(ScriptTimeout, f"The script ran longer than {self.timeout:g} s.")
        if self.memory_ceiling is not None and moment >= self.next_memory_check:
            self.next_memory_check = moment + _MEMORY_CHECK_INTERVAL
            resident = _resident_bytes()
            if resident is not None and resident > self.memory_ceiling:
                raise _Abort(ScriptResourceLimit, "The script used too much memory.")
        return True


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
        scope = self._scope(data, extra)
        return self._run(lambda: eval(code, scope), expression)

    def execute(
        self, script: str, data: dict[str, Any], extra: Mapping | None = None
    ) -> dict[str, Any]:
        """Run `script`; `data` is updated in place with what the script leaves behind."""
        code = _compile(script, "exec")
        scope = self._scope(data, extra)
        self._run(lambda: exec(code, scope), script)
        extra_names = set(extra or ())
        result = {}
        for name, value in scope.items():
            if name == "__builtins__" or callable(value):
                continue
            if name in extra_names and value is extra[name]:
                continue
            result[name] = storable(name, value)
        data.clear()
        data.update(result)
        return data

    def _scope(self, data: Mapping[str, Any], extra: Mapping | None) -> dict[str, Any]:
        scope = dict(extra or ())
        scope.update(data)
        budget = _Budget(self.timeout_seconds)
        scope["__builtins__"] = {**self.builtins, "_tick_": budget.tick}
        return scope

    def _run(self, run: Callable[[], Any], source: str) -> Any:
        context = _MONEY_CONTEXT.copy()
        try:
            with decimal.localcontext(context):
                return run()
        except _Abort as abort:
            raise abort.error_class(abort.message, _script_line(abort)) from None
        except RecursionError:
            raise ScriptResourceLimit("The script recursed too deeply.") from None
        except MemoryError:
            raise ScriptResourceLimit("The script used too much memory.") from None
        except decimal.Overflow:
            raise ScriptResourceLimit("A decimal number is too large.") from None


def _script_line(error: BaseException) -> int | None:
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<string>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


_SCALARS = (str, int, float, bool, type(None), datetime, timedelta)


def storable(name: str, value: Any, depth: int = 0) -> Any:
    """The value as process data can keep it (JSON-like); refuses what cannot be kept."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if depth > 50:
        raise ScriptError(f"Variable '{name}' is nested too deeply to store.")
    if isinstance(value, list | tuple):
        return [storable(name, item, depth + 1) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((storable(name, item, depth + 1) for item in value), key=repr)
    if isinstance(value, dict):
        return {str(key): storable(name, item, depth + 1) for key, item in value.items()}
    raise ScriptError(
        f"Variable '{name}' holds a {type(value).__name__}, which process data cannot store."
    )


_default = Sandbox()


def evaluate(expression: str, data: Mapping[str, Any], extra: Mapping | None = None) -> Any:
    """Evaluate with the default helpers and time budget."""
    return _default.evaluate(expression, data, extra)


def execute(script: str, data: dict[str, Any], extra: Mapping | None = None) -> dict[str, Any]:
    return _default.execute(script, data, extra)
