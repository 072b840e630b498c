"""SpiffWorkflow's script engine, pointed at Weft's sandbox instead of plain eval/exec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.operations.calling import OperationFailed, call_operation
from engine.sandbox import Sandbox


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """Every script, condition and expression Spiff evaluates goes through the sandbox."""

    def __init__(self, sandbox: Sandbox):
        super().__init__({})
        self.sandbox = sandbox

    def evaluate(self, expression: str, context: Mapping, external_context: Mapping | None = None):
        return self.sandbox.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict, external_context: Mapping | None = None) -> bool:
        self.sandbox.execute(script, context, external_context)
        return True

    def call_service(self, context: Any, **kwargs: Any) -> str:
        """A service task: the registered operation, as the instance's acting user."""
        return call_operation(kwargs["operation_name"], kwargs.get("operation_params") or {})


class WeftScriptEngine(PythonScriptEngine):
    def call_service(self, task, **kwargs):
        # Spiff's own version refers to an undefined name when the call fails; a failing
        # operation must become a readable incident on its task instead.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except OperationFailed as exc:
            raise WorkflowTaskException(exc.message, task=task, exception=exc) from exc
        except Exception as exc:
            name = kwargs.get("operation_name", "?")
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise WorkflowTaskException(f"{name}: {message}", task=task, exception=exc) from exc


def make_script_engine(
    helpers: Mapping[str, Any] | None = None, timeout_seconds: float = 1.0
) -> PythonScriptEngine:
    return WeftScriptEngine(environment=SandboxedEnvironment(Sandbox(helpers, timeout_seconds)))
