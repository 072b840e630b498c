"""Run untrusted BPMN scripts and expressions: RestrictedPython plus time, step and size budgets.

Uploaded BPMN is untrusted code. Four layers keep it in its box:

1. Compile time (policy.py): RestrictedPython's policy, tightened: no imports, no classes, no
   `_`/dunder names or attributes, no `mro`/frame/code/`format` attributes, no bare `except:`.
   `check_syntax` runs this at upload, so most attacks are refused before they are stored.
2. Run-time guards: a whitelist of builtins (builtins_table.py; dangerous names refuse with a
   ScriptViolation), `safer_getattr` plus guarded text and container methods (attributes.py),
   size guards on the operators that allocate without bound (operators.py), and a restricted
   `__import__` for the C code of `strftime`/`strptime` only (imports.py).
3. Walk guards (walks.py, logical_size.py): before str/repr/format/%/f-strings, ==/</in, hash,
   -/&/|/^ on sets and dict views, sorted/min/max and the container methods that compare or
   hash, the value's logical size is measured
   (memoised by identity), so `a = [a, a]` sixty times cannot make C walk 2**60 elements.
4. Budgets (budget.py): a `_tick_()` before every statement and in every loop, function, lambda
   and comprehension, and before every big allocation, checks the deadline, a step count and
   the growth of resident memory. Breaches raise a BaseException subclass inside the script,
   which `except Exception` cannot swallow; they reach the caller as ScriptTimeout or
   ScriptResourceLimit.

What a run leaves behind (storage.py) is measured and copied into JSON-like data before Spiff
copies or serializes it. Costs: docs/PERFORMANCE.md, "Sandbox"; rules: docs/PROCESSES.md.
"""

from engine.sandbox.errors import (
    ScriptError,
    ScriptResourceLimit,
    ScriptSyntaxError,
    ScriptTimeout,
    ScriptViolation,
)
from engine.sandbox.helpers import (
    HELPERS,
    add_days,
    add_months,
    days_between,
    iso,
    now,
    parse_date,
    round_money,
    today,
)
from engine.sandbox.limits import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_LOGICAL_SIZE,
    MAX_MEMORY_GROWTH_BYTES,
    MAX_SEQUENCE_LENGTH,
    MAX_STEPS,
    MAX_STORED_CHARACTERS,
    MAX_STORED_ITEMS,
)
from engine.sandbox.policy import check_syntax
from engine.sandbox.runner import Sandbox, evaluate, execute
from engine.sandbox.storage import storable

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "HELPERS",
    "MAX_FORMAT_WIDTH",
    "MAX_INT_BITS",
    "MAX_LOGICAL_SIZE",
    "MAX_MEMORY_GROWTH_BYTES",
    "MAX_SEQUENCE_LENGTH",
    "MAX_STEPS",
    "MAX_STORED_CHARACTERS",
    "MAX_STORED_ITEMS",
    "Sandbox",
    "ScriptError",
    "ScriptResourceLimit",
    "ScriptSyntaxError",
    "ScriptTimeout",
    "ScriptViolation",
    "add_days",
    "add_months",
    "check_syntax",
    "days_between",
    "evaluate",
    "execute",
    "iso",
    "now",
    "parse_date",
    "round_money",
    "storable",
    "today",
]
