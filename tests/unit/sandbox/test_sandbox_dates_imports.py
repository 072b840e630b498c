"""Gap 3: date formatting works inside the sandbox; imports stay refused, however reached."""

from __future__ import annotations

import pytest

from engine import sandbox
from engine.sandbox import ScriptError, ScriptViolation


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("date(2026, 11, 23).strftime('%Y年%m月%d日')", "2026年11月23日"),
        ("datetime(2026, 11, 23, 9, 30).strftime('%Y-%m-%d %H:%M')", "2026-11-23 09:30"),
        ("parse_date('2026-01-05').strftime('%d/%m/%Y')", "05/01/2026"),
        ("datetime.strptime('2026-11-23', '%Y-%m-%d').day", 23),
        ("f'{date(2026, 3, 1):%Y/%m}'", "2026/03"),
        ("date(2026, 3, 1).timetuple().tm_yday", 60),
    ],
)
def test_dates_format_inside_the_sandbox(expression, expected):
    assert sandbox.evaluate(expression, {}) == expected


def test_a_script_task_formats_a_due_date():
    data = {"ordered": "2026-01-15"}
    sandbox.execute("due = parse_date(add_days(ordered, 30)).strftime('%Y年%m月%d日')", data)
    assert data["due"] == "2026年02月14日"


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "import time",
        "from datetime import date",
        "x = __import__('os')",
        "x = __builtins__",
        "x = getattr(__builtins__, '__import__')",
        "x = __builtins__['__import__']('os')",
    ],
)
def test_imports_and_the_builtins_module_are_refused_at_upload(source):
    with pytest.raises(ScriptViolation):
        sandbox.check_syntax(source)


@pytest.mark.parametrize(
    "script",
    [
        "x = getattr(date, 'to' + 'day')",
        "x = vars(date)",
        "x = globals()['__builtins__']",
        "x = locals()",
        "x = dir(date)",
    ],
)
def test_reaching_the_builtins_at_run_time_is_refused(script):
    data = {}
    with pytest.raises(ScriptViolation):
        sandbox.execute(script, data)
    assert data == {}


def test_the_import_hook_refuses_everything_the_c_code_does_not_need():
    from engine.sandbox.imports import restricted_import

    assert restricted_import("time").__name__ == "time"
    for name in ("os", "sys", "subprocess", "importlib", "builtins", "time.os"):
        with pytest.raises(ScriptViolation, match="Imports are not allowed"):
            restricted_import(name)
    with pytest.raises(ScriptViolation):
        restricted_import("time", {}, {}, ("sleep",), 1)  # relative imports too


def test_the_import_hook_is_a_script_error_not_a_key_error():
    # strftime reaches it; the script cannot, but if it ever did it would be a ScriptError
    assert issubclass(ScriptViolation, ScriptError)


def test_today_and_instants_are_days_of_the_business_calendar():
    """At 07:30 in Suzhou (23:30 UTC the evening before) a script's today is Suzhou's day, and
    an instant is the day it falls on there."""
    from datetime import UTC, datetime

    from core import clock

    with clock.frozen_at(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)):
        assert sandbox.evaluate("today()", {}) == "2026-11-23"
    assert sandbox.evaluate("parse_date('2026-11-22T23:30:00+00:00')", {}).isoformat() == (
        "2026-11-23"
    )
    assert sandbox.evaluate("parse_date('2026-11-23')", {}).isoformat() == "2026-11-23"
