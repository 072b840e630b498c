"""Time, step and memory budgets of one run, checked at `_tick_()` calls.

The compiler puts a tick before every statement and into every loop, function, lambda and
comprehension; the operator guards tick before a big allocation. A tick costs well under a
microsecond: a step count and a monotonic clock read. Resident memory (`/proc/self/statm`,
about 4 µs a read) is read at most every 2 ms, and the first read, the baseline, only once a run
has lasted 2 ms: scripts and expressions that finish sooner (nearly all) never pay for it.
"""

from __future__ import annotations

import builtins
import os
import threading
import time

from engine.sandbox.errors import Abort, ScriptError, ScriptResourceLimit, ScriptTimeout
from engine.sandbox.limits import MAX_MEMORY_GROWTH_BYTES, MAX_STEPS

MEMORY_CHECK_INTERVAL = 0.002  # seconds between resident-memory reads while a script runs
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_NEVER = float("inf")


def resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


class Budget:
    __slots__ = ("breach", "deadline", "memory_ceiling", "next_memory_check", "steps", "timeout")

    def __init__(self, timeout: float):
        self.timeout = timeout
        started = time.monotonic()
        self.deadline = started + timeout
        self.memory_ceiling: int | None = None  # baseline + allowance, set at the first read
        self.next_memory_check = started + MEMORY_CHECK_INTERVAL
        self.steps = 0
        self.breach: Abort | None = None  # the first breach, even if the script caught it

    def tick(self) -> bool:
        self.steps += 1
        if self.steps > MAX_STEPS:
            self._abort(
                ScriptResourceLimit,
                f"The script ran more than {MAX_STEPS:,} steps (statements, loop rounds, calls).",
            )
        moment = time.monotonic()
        if moment > self.deadline:
            self._abort(ScriptTimeout, f"The script ran longer than {self.timeout:g} s.")
        if moment >= self.next_memory_check:
            self._check_memory(moment)
        return True

    def _check_memory(self, moment: float) -> None:
        resident = resident_bytes()
        if resident is None:  # no /proc: the time and size limits still hold
            self.next_memory_check = _NEVER
            return
        self.next_memory_check = moment + MEMORY_CHECK_INTERVAL
        if self.memory_ceiling is None:
            self.memory_ceiling = resident + MAX_MEMORY_GROWTH_BYTES
        elif resident > self.memory_ceiling:
            self._abort(ScriptResourceLimit, "The script used too much memory.")

    def _abort(self, error_class: type[ScriptError], message: str):
        abort = Abort(error_class, message)
        if self.breach is None:
            self.breach = abort
        raise abort

    def raise_breach(self) -> None:
        """A breach the script caught (`except ValueError.mro()[-2]`, `finally: return`) still
        ends the run with the budget's error."""
        if self.breach is not None:
            breach = self.breach
            raise breach.error_class(breach.message, script_line(breach)) from None


# The budget of the run on this thread, for guards that are shared by all runs (the operator
# guards, map/filter/sum): they tick it before work that happens in C.
_active = threading.local()


def activate(budget: Budget | None) -> Budget | None:
    previous = getattr(_active, "budget", None)
    _active.budget = budget
    return previous


def charge() -> None:
    """Tick the running script's budget (no-op outside a run)."""
    budget = getattr(_active, "budget", None)
    if budget is not None:
        budget.tick()


def ticking_map(function, *iterables):
    for item in builtins.map(function, *iterables):
        charge()
        yield item


def ticking_filter(function, iterable):  # in Python: the builtin skips items without yielding
    for item in iterable:
        charge()
        if item if function is None else function(item):
            yield item


def script_line(error: BaseException) -> int | None:
    line = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<string>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line
