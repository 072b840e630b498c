"""The `__import__` that scripts' builtins carry, for CPython's own C code only.

Scripts cannot name `__import__` (no `_` names, no `import` statement: refused at upload), but
some C code imports through the builtins of the running code: `date.strftime` imports `time`,
`datetime.strptime` imports `_strptime`. Without an `__import__` in the builtins those raise
`KeyError: '__import__'`; with this one they work, and any other import is a ScriptViolation.
"""

from __future__ import annotations

import builtins
from typing import Any

from engine.sandbox.errors import ScriptViolation

# What C code in the types scripts can reach imports internally (all already loaded by Weft).
C_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})


def restricted_import(
    name: str,
    globals: Any = None,
    locals: Any = None,
    fromlist: Any = (),
    level: int = 0,
) -> Any:
    if level != 0 or name not in C_INTERNAL_IMPORTS:
        raise ScriptViolation("Imports are not allowed in Weft scripts; use the built-in helpers.")
    return builtins.__import__(name, None, None, fromlist, 0)
