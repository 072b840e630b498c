"""Holding engine.serialization's direct state writer and reader to Spiff's registry path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.serialization import (
    dump_state,
    reference_dump_state,
    reference_state_from_json,
    state_from_json,
)


def same_outcome(direct: Callable[[], Any], reference: Callable[[], Any]) -> Any:
    """The reference's result, after checking that `direct` fails exactly when it does, and
    with the same kind of error; comparing what they return is left to the caller."""
    try:
        expected = reference()
    except Exception as exc:
        try:
            direct()
        except type(exc):
            raise exc from None
        raise AssertionError(f"the registry path raises {exc!r}, the direct path does not") from exc
    try:
        direct()
    except Exception as exc:
        raise AssertionError(f"the direct path raises {exc!r}, the registry path does not") from exc
    return expected


def checked_dump(workflow) -> str:
    """`dump_state`, asserted byte-identical to what the registry writes."""
    expected = same_outcome(lambda: dump_state(workflow), lambda: reference_dump_state(workflow))
    assert dump_state(workflow) == expected
    return expected


def assert_loads_alike(state: str, spec, subprocess_specs, *, writes_back: bool = True) -> None:
    """The direct reader and the registry's give the same workflow, which (unless the state
    needed migrating) writes `state` back unchanged."""
    reference = same_outcome(
        lambda: state_from_json(state, spec, subprocess_specs),
        lambda: reference_state_from_json(state, spec, subprocess_specs),
    )
    direct = state_from_json(state, spec, subprocess_specs)
    assert checked_dump(direct) == checked_dump(reference)
    if writes_back:
        assert checked_dump(direct) == state
    assert facts(direct) == facts(reference)


def facts(workflow) -> dict:
    """What a loaded workflow holds beyond its dump: each task's whole data (types included),
    the catching events it waits on, its subprocesses and where it stands."""

    def tasks(wf):
        return {
            str(task.id): (task.task_spec.name, task.state, _typed(task.data), task.internal_data)
            for task in wf.tasks.values()
        }

    return {
        "tasks": tasks(workflow),
        "data": _typed(workflow.data),
        "waiting_events": sorted(str(task_id) for task_id in workflow.event_manager.tasks),
        "subprocesses": {
            str(task_id): (sub.spec.name, tasks(sub), _typed(sub.data), str(sub.parent_task_id))
            for task_id, sub in workflow.subprocesses.items()
        },
        "last_task": str(workflow.last_task.id) if workflow.last_task else None,
        "bpmn_events": len(workflow.bpmn_events),
        "completed": workflow.is_completed(),
    }


def _typed(value):
    """`value` with every leaf's type beside it: 1 == 1.0 == True must not pass for the same."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *(_typed(item) for item in value)]
    return (type(value).__name__, value)
