"""Service-task operations: the bridge from BPMN to the CRM.

`registry` holds the operations and their parameter schemas; `context` says who an operation acts
as; every other module here is a family of operations (`crm_ops`, `notify_ops`, ...) and is
imported when the registry is first used. See docs/PROCESSES.md, "Service-task operations".
"""

from engine.operations.context import OperationContext, current_context
from engine.operations.registry import Operation, all_operations, get_operation, operation

__all__ = [
    "Operation",
    "OperationContext",
    "all_operations",
    "current_context",
    "get_operation",
    "operation",
]
