"""Gap 4: the memory baseline is read lazily; short scripts and expressions never read it."""

from __future__ import annotations

from engine import sandbox
from engine.sandbox import Sandbox, budget


def test_short_scripts_and_expressions_do_not_read_resident_memory(monkeypatch):
    reads = []
    real = budget.resident_bytes
    monkeypatch.setattr(budget, "resident_bytes", lambda: reads.append(1) or real())
    sandbox.evaluate("amount > 1000", {"amount": 5})
    sandbox.execute("total = amount * 2\nif total > 3:\n    big = True", {"amount": 5})
    assert reads == []


def test_a_long_running_script_reads_resident_memory(monkeypatch):
    reads = []
    real = budget.resident_bytes
    monkeypatch.setattr(budget, "resident_bytes", lambda: reads.append(1) or real())
    Sandbox().execute("for i in range(300000):\n    x = i", {})
    assert len(reads) >= 2  # the baseline, then the checks against it


def test_without_a_readable_resident_size_the_time_budget_still_holds(monkeypatch):
    from tests.support.sandbox import BUDGET, run_timed

    monkeypatch.setattr(budget, "resident_bytes", lambda: None)
    error, _, _ = run_timed("while True:\n    pass", runner=Sandbox(timeout_seconds=0.1))
    assert isinstance(error, BUDGET)
