"""The errors callers see, and the in-script abort that budgets raise."""

from __future__ import annotations


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


class Abort(BaseException):
    """Raised inside the script when a limit is hit; `except Exception` cannot catch it."""

    def __init__(self, error_class: type[ScriptError], message: str):
        super().__init__(message)
        self.error_class = error_class
        self.message = message


def too_big(what: str) -> Abort:
    return Abort(ScriptResourceLimit, f"{what} is too large for a Weft script.")
