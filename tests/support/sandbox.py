"""Helpers for the sandbox tests: run a hostile script and time how it ends."""

from __future__ import annotations

import contextlib
import time

import pytest

from engine import sandbox
from engine.sandbox import Sandbox, ScriptError, ScriptResourceLimit, ScriptTimeout
from engine.sandbox.policy import compile_script

QUICK_SECONDS = 2.0  # every refusal, including the budget ones, ends well within this
BUDGET = (ScriptTimeout, ScriptResourceLimit)


def run_timed(script: str, data: dict | None = None, runner: Sandbox | None = None):
    """Run `script` expecting a ScriptError; return (error, seconds, data afterwards)."""
    data = {} if data is None else data
    # Compiling happens once, at upload, and is cached; only the run is held to the budget.
    with contextlib.suppress(ScriptError):
        compile_script(script, "exec")
    started = time.monotonic()
    with pytest.raises(ScriptError) as info:
        (runner or sandbox).execute(script, data)
    return info.value, time.monotonic() - started, data


def evaluate_timed(expression: str, data: dict | None = None):
    """Evaluate `expression` expecting a ScriptError; return (error, seconds)."""
    started = time.monotonic()
    with pytest.raises(ScriptError) as info:
        sandbox.evaluate(expression, {} if data is None else data)
    return info.value, time.monotonic() - started
