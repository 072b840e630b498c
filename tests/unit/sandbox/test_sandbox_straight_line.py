"""Gap 1: straight-line code (no loop, no function) is held to the same time and memory budget."""

from __future__ import annotations

import itertools

import pytest

from engine.sandbox import Sandbox, ScriptResourceLimit, ScriptTimeout, budget
from tests.support.sandbox import BUDGET, QUICK_SECONDS, run_timed


def _lines(template: str, count: int) -> str:
    return "\n".join(template.format(n=n) for n in range(count))


# Compiling thousands of statements takes RestrictedPython about 0.3 ms each (done once, at
# upload; cached); the scripts below are sized so that compiling stays well within the 2 s.


def test_thousands_of_big_allocations_in_a_row_stop_at_the_time_budget():
    script = _lines("a = [0] * 900000", 3000)  # 0.5–2 ms each: well past 0.3 s without ticks
    runner = Sandbox(timeout_seconds=0.3)
    error, seconds, after = run_timed(script, {"customer": "ACME"}, runner=runner)
    assert isinstance(error, BUDGET), error.message
    assert seconds < QUICK_SECONDS
    assert after == {"customer": "ACME"}


def test_big_allocations_kept_alive_are_stopped():
    script = _lines("a{n} = [0] * 900000", 300)  # 7 MB each, all kept: 2 GB
    error, seconds, _ = run_timed(script, runner=Sandbox(timeout_seconds=0.3))
    # Memory or time: resident memory does not grow while the allocator reuses what earlier
    # runs freed, so on a busy test process the deadline may come first.
    assert isinstance(error, BUDGET), error.message
    assert seconds < QUICK_SECONDS


def test_straight_line_code_reads_resident_memory_between_statements(monkeypatch):
    readings = itertools.count()
    monkeypatch.setattr(budget, "resident_bytes", lambda: next(readings) * 64 * 1024 * 1024)
    script = _lines("a{n} = [0] * 900000", 300)
    error, seconds, _ = run_timed(script, runner=Sandbox(timeout_seconds=30))
    assert isinstance(error, ScriptResourceLimit), error.message
    assert "memory" in error.message
    assert seconds < QUICK_SECONDS


def test_a_doubling_chain_without_a_loop_is_stopped():
    script = "a = [0] * 500000\n" + _lines("b{n} = a + a[:400000]", 150)
    error, seconds, _ = run_timed(script, runner=Sandbox(timeout_seconds=0.3))
    assert isinstance(error, BUDGET), error.message
    assert seconds < QUICK_SECONDS


def test_one_statement_with_many_big_literals_is_stopped():
    items = ", ".join(["[0] * 900000"] * 400)  # 2.9 GB if built
    error, seconds, _ = run_timed(f"a = [{items}]", runner=Sandbox(timeout_seconds=0.3))
    assert isinstance(error, BUDGET), error.message
    assert seconds < QUICK_SECONDS


def test_big_allocations_in_one_statement_tick_the_budget(monkeypatch):
    readings = itertools.count()
    monkeypatch.setattr(budget, "resident_bytes", lambda: next(readings) * 64 * 1024 * 1024)
    items = ", ".join(["[0] * 900000"] * 400)
    error, _, _ = run_timed(f"a = [{items}]", runner=Sandbox(timeout_seconds=30))
    assert isinstance(error, ScriptResourceLimit), error.message
    assert "memory" in error.message


def test_a_timeout_in_straight_line_code_names_the_line():
    runner = Sandbox(timeout_seconds=0.05)
    error, _, _ = run_timed("x = 1\n" + _lines("a = sorted(range(200000))", 200), runner=runner)
    assert isinstance(error, ScriptTimeout)
    assert error.line is not None and error.line > 1


@pytest.mark.parametrize("count", [1, 300])
def test_ordinary_straight_line_scripts_still_run(count):
    data = {"n": 0}
    Sandbox().execute(_lines("n = n + 1", count), data)
    assert data == {"n": count}
