"""SpiffWorkflow's script engine, pointed at Weft's sandbox instead of plain eval/exec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

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

    def call_service(self, context: Any, **kwargs: Any):
        raise NotImplementedError("Service tasks are not available yet.")


def make_script_engine(
    helpers: Mapping[str, Any] | None = None, timeout_seconds: float = 1.0
) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SandboxedEnvironment(Sandbox(helpers, timeout_seconds)))
