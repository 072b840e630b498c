"""Service tasks in test BPMN, written the way the Spiff modeler writes them."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr


def service_task(task_id: str, operation: str, result: str | None = None, **params: str) -> str:
    """`params` maps parameter names to Python expressions (quote strings yourself)."""
    items = "".join(
        f'<spiffworkflow:parameter id="{name}" type="any" value={quoteattr(value)}/>'
        for name, value in params.items()
    )
    result_attr = f' resultVariable="{result}"' if result else ""
    return (
        f'<bpmn:serviceTask id="{task_id}" name="{task_id}"><bpmn:extensionElements>'
        f'<spiffworkflow:serviceTaskOperator id="{operation}"{result_attr}>'
        f"<spiffworkflow:parameters>{items}</spiffworkflow:parameters>"
        "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
    )
