"""The Sandbox: evaluates expressions and executes scripts over a data dict, within budgets."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from engine.sandbox import budget as budgets
from engine.sandbox.builtins_table import base_builtins
from engine.sandbox.errors import Abort, ScriptResourceLimit, ScriptViolation
from engine.sandbox.helpers import HELPERS
from engine.sandbox.limits import DEFAULT_TIMEOUT_SECONDS
from engine.sandbox.logical_size import TooLarge, logical_size
from engine.sandbox.operators import MONEY_CONTEXT
from engine.sandbox.policy import compile_script
from engine.sandbox.storage import remove_unkeepable, storable_variables
from engine.sandbox.walks import ensure_walkable


class Sandbox:
    """Evaluates expressions and executes scripts over a data dict, within budgets."""

    def __init__(
        self, helpers: Mapping[str, Any] | None = None, timeout_seconds: float | None = None
    ):
        self.timeout_seconds = timeout_seconds or DEFAULT_TIMEOUT_SECONDS
        self.builtins = base_builtins()
        self.builtins.update(HELPERS)
        self.builtins.update(helpers or {})

    def evaluate(self, expression: str, data: Mapping[str, Any], extra: Mapping | None = None):
        code = compile_script(expression.strip(), "eval")
        scope, budget = self._scope(data, extra)
        try:
            return self._run(lambda: _returnable(eval(code, scope)), budget)
        finally:
            if isinstance(data, MutableMapping):
                remove_unkeepable(data)  # it may have changed the data's lists in place

    def execute(
        self, script: str, data: dict[str, Any], extra: Mapping | None = None
    ) -> dict[str, Any]:
        """Run `script`; `data` is updated in place with what the script leaves behind."""
        code = compile_script(script, "exec")
        scope, budget = self._scope(data, extra)
        try:
            self._run(lambda: exec(code, scope), budget)
            result = storable_variables(_left_behind(scope, extra))
        except BaseException:
            # The data is kept as it was, but the script may have changed its lists and dicts
            # in place: what Spiff could not copy or serialize any more is removed.
            remove_unkeepable(data)
            raise
        data.clear()
        data.update(result)
        return data

    def _scope(
        self, data: Mapping[str, Any], extra: Mapping | None
    ) -> tuple[dict[str, Any], budgets.Budget]:
        scope = dict(extra or ())
        scope.update(data)
        budget = budgets.Budget(self.timeout_seconds)
        scope["__builtins__"] = {**self.builtins, "_tick_": budget.tick}
        return scope, budget

    def _run(self, run: Callable[[], Any], budget: budgets.Budget) -> Any:
        previous = budgets.activate(budget)
        try:
            with decimal.localcontext(MONEY_CONTEXT.copy()):
                result = run()
        except Abort as abort:
            raise abort.error_class(abort.message, budgets.script_line(abort)) from None
        except RecursionError:
            raise ScriptResourceLimit("The script recursed too deeply.") from None
        except MemoryError:
            raise ScriptResourceLimit("The script used too much memory.") from None
        except decimal.Overflow:
            raise ScriptResourceLimit("A decimal number is too large.") from None
        except Exception as error:
            budget.raise_breach()  # e.g. a NameError raised while handling the budget's abort
            _refuse_huge_error(error)
            raise
        except (KeyboardInterrupt, SystemExit):
            raise  # the process is being stopped; scripts cannot reach these classes
        except BaseException as error:
            raise ScriptViolation(
                f"The script raised {type(error).__name__}, which Weft scripts may not raise.",
                budgets.script_line(error),
            ) from None
        finally:
            budgets.activate(previous)
        budget.raise_breach()
        return result


def _left_behind(scope: dict[str, Any], extra: Mapping | None) -> dict[str, Any]:
    """The script's variables: not its builtins, functions, or extra names it left alone."""
    extra = extra or {}
    return {
        name: value
        for name, value in scope.items()
        if name != "__builtins__"
        and not callable(value)
        and not (name in extra and value is extra[name])
    }


def _returnable(value: Any) -> Any:
    """What an expression returns goes to Spiff (and into messages): measured like data. A lazy
    iterator is read now, within the budget: read later, its budget ticks would fire outside
    the run."""
    if isinstance(value, Iterator):
        value = list(value)
    return ensure_walkable(value)


def _refuse_huge_error(error: Exception) -> None:
    """An error leaving the script is turned into a message by Spiff and Weft: measured first."""
    try:
        logical_size(error)
    except TooLarge:
        raise ScriptResourceLimit(
            f"The script raised a {type(error).__name__} too large to report.",
            budgets.script_line(error),
        ) from None


_default = Sandbox()


def evaluate(expression: str, data: Mapping[str, Any], extra: Mapping | None = None) -> Any:
    """Evaluate with the default helpers and time budget."""
    return _default.evaluate(expression, data, extra)


def execute(script: str, data: dict[str, Any], extra: Mapping | None = None) -> dict[str, Any]:
    return _default.execute(script, data, extra)
