"""Gap 5: the issue's attack list, each ending as a clear ScriptError subclass within ~2 s.

The compile-time refusals and the original run-time corpus of size and budget attacks are in
test_sandbox_scripts.py. These are the ones that used to end as a bare NameError, KeyError,
ValueError, NotImplementedError or even a raw BaseException escaping the sandbox."""

from __future__ import annotations

import pytest

from engine import sandbox
from engine.sandbox import ScriptError, ScriptResourceLimit, ScriptViolation
from tests.support.sandbox import BUDGET, QUICK_SECONDS, run_timed

ATTACKS = {
    "open": ("x = open('/etc/passwd').read()", ScriptViolation),
    "getattr": ("x = getattr(1, '__cla' + 'ss__')", ScriptViolation),
    "getattr_format": ("x = getattr(str, 'for' + 'mat')", ScriptViolation),
    "setattr": ("setattr(date, 'today', 1)", ScriptViolation),
    "type": ("x = type(1)", ScriptViolation),
    "type_three_args": ("x = type('T', (), {})", ScriptViolation),
    "vars": ("x = vars()", ScriptViolation),
    "dir": ("x = dir()", ScriptViolation),
    "globals": ("x = globals()", ScriptViolation),
    "locals": ("x = locals()", ScriptViolation),
    "compile": ("x = compile('1', 'f', 'eval')", ScriptViolation),
    "object": ("x = object()", ScriptViolation),
    "str_format_attribute": ("x = '{0.__class__}'.format(1)", ScriptViolation),
    "str_format_unbound": ("x = str.format('{0.__class__}', 1)", ScriptViolation),
    "format_map": ("x = '{a.__class__}'.format_map({'a': 1})", ScriptViolation),
    "format_map_unbound": ("x = str.format_map('{a.real}', {'a': 1})", ScriptViolation),
    "percent_mapping": ("x = '%(a)s' % {'a': str}", None),  # allowed: no attribute access
    "mro_base_exception": ("raise ValueError.mro()[-2]('x')", ScriptViolation),
    "mro_object": ("x = ValueError.mro()[-1]", ScriptViolation),
    "raise_base_exception_class": (
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    raise e.with_traceback(None)",
        ZeroDivisionError,
    ),
    "generator_throw": (
        "def g():\n    yield 1\nit = g()\nnext(it)\nit.throw(ValueError.mro()[-2])",
        ScriptViolation,
    ),
    "generator_frame": ("def g():\n    yield 1\nx = g().gi_frame", ScriptViolation),
    "generator_code": ("def g():\n    yield 1\nx = g().gi_code", ScriptViolation),
    "traceback_frame": (
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    x = e.__traceback__.tb_frame",
        ScriptViolation,
    ),
    "date_helper_module": ("x = today.__globals__", ScriptViolation),
    "while_true": ("while True:\n    pass", BUDGET),
    "string_repeat": ("x = 'x' * 10**10", ScriptResourceLimit),
    "huge_power": ("x = 10**10**8", ScriptResourceLimit),
    "int_from_long_text": ("x = int('9' * 10**6)", ScriptResourceLimit),
    "int_from_long_text_in_one_go": ("s = '9' * 900000\nx = int(s + s[:10])", ScriptResourceLimit),
    "deep_recursion": ("def f(n):\n    return f(n + 1)\nf(0)", ScriptResourceLimit),
    "deep_recursion_lambda": ("f = lambda n: f(n + 1)\nf(0)", ScriptResourceLimit),
    "deep_nesting_repr": (
        "a = []\nfor i in range(5000):\n    a = [a]\nx = repr(a)",
        ScriptResourceLimit,
    ),
    "generator_forever": (
        "def g():\n    while True:\n        yield 1\nx = sum(g())",
        BUDGET,
    ),
    "generator_growing": (
        "def g():\n    s = 'x'\n    while True:\n        s = s + s\n        yield s\nx = list(g())",
        ScriptResourceLimit,
    ),
}


@pytest.mark.parametrize("script, expected", list(ATTACKS.values()), ids=list(ATTACKS))
def test_attack_ends_as_a_clear_script_error(script, expected):
    data = {"customer": "ACME"}
    if expected is None:
        sandbox.execute(script, data)
        return
    if not (isinstance(expected, tuple) or issubclass(expected, ScriptError)):
        with pytest.raises(expected):  # an ordinary error of the script's own making
            sandbox.execute(script, data)
        return
    error, seconds, after = run_timed(script, data)
    assert isinstance(error, expected), f"{type(error).__name__}: {error.message}"
    assert error.message
    assert seconds < QUICK_SECONDS
    assert after == {"customer": "ACME"}


def test_a_refused_builtin_says_what_to_use_instead():
    with pytest.raises(ScriptViolation, match="'open' is not available"):
        sandbox.execute("x = open('f')", {})


def test_names_that_shadow_refused_builtins_are_ordinary_variables():
    data = {"type": "vip", "object": "order"}
    sandbox.execute("label = type + ':' + object\ndir = 'north'", data)
    assert data == {"type": "vip", "object": "order", "label": "vip:order", "dir": "north"}
