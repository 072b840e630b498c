"""Workflow state <-> JSON, with the specs kept on the definition row instead of every instance.

An instance row stores only the task tree and data. The specs are immutable per definition
version, so their deserialized form is cached per definition id: loading an instance then costs
the task tree only, which keeps Weft's cycle close to the raw engine's.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine import spiff_clock  # noqa: F401  (installs the injectable clock into Spiff's timers)


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Serializes a top-level workflow without its specs; restores it onto given spec objects."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, spec: Any = None, subprocess_specs: dict | None = None):
        if spec is None:  # a full serialization (specs inline), e.g. from a backup tool
            return super().from_dict(dct)
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _DataTolerantRegistry(DefaultRegistry):
    """Spiff's registry, restoring a dict whose "typename" names no registered type as the plain
    dict it is (Spiff documents that, but calls a missing converter): process data may well hold
    such a key (a form field, start data, a script variable called "typename"). Data naming a
    registered type is handled by `_restored_data` below, so that here a broken Spiff object
    (a task, a subprocess, an event) still fails loudly."""

    def restore(self, val: Any, **kwargs: Any) -> Any:
        if type(val) is dict and "typename" in val and not self._registered(val["typename"]):
            return {key: self.restore(item, **kwargs) for key, item in val.items()}
        return super().restore(val, **kwargs)

    def _registered(self, typename: Any) -> bool:
        return isinstance(typename, str) and typename in self.convert_from_dict


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = StateOnlyWorkflowConverter
_registry = BpmnWorkflowSerializer.configure(_config, registry=_DataTolerantRegistry())
_serializer = BpmnWorkflowSerializer(_registry)
# Spiff's own JSON encoder: task data is written as it is, so a value JSON cannot hold (a
# datetime a script left there) is encoded as Spiff's serialize_json would, typename and all.
_StateEncoder = create_encoder(_registry)


def _state_json(dct: dict) -> str:
    return json.dumps(dct, separators=(",", ":"), cls=_StateEncoder)


# A spec-inclusive serializer, for the definition rows and for the benchmark's raw baseline.
_full_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def specs_to_dict(spec: Any, subprocess_specs: dict) -> dict:
    return {
        "spec": _full_serializer.to_dict(spec),
        "subprocess_specs": {
            name: _full_serializer.to_dict(s) for name, s in subprocess_specs.items()
        },
    }


class _DefinitionCache:
    """LRU of what is derived from a definition row; a definition never changes once written.

    Keyed by id *and* content hash: ids can be reused (a rolled-back insert on SQLite, a
    restored backup), hashes tell the versions apart.
    """

    def __init__(self, build: Callable[[Any], Any], capacity: int = 256):
        self._items: OrderedDict[tuple[int, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._build = build
        self._capacity = capacity

    def get(self, definition_id: int, content_hash: str, source: Callable[[], Any]) -> Any:
        key = (definition_id, content_hash)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        built = self._build(source())
        with self._lock:
            self._items[key] = built
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return built


def _specs_from_dict(spec_dict: dict) -> tuple[Any, dict]:
    # The converters pop keys from what they restore, so give them a copy.
    copy = json.loads(json.dumps(spec_dict))
    spec = _full_serializer.from_dict(copy["spec"])
    subs = {name: _full_serializer.from_dict(s) for name, s in copy["subprocess_specs"].items()}
    return spec, subs


spec_cache = _DefinitionCache(_specs_from_dict)
forms_cache = _DefinitionCache(lambda forms: forms or {})


def definition_specs(definition: Any) -> tuple[Any, dict]:
    """The (cached) spec objects of a ProcessDefinition row."""
    # The spec column is deferred: it is read only on a cache miss.
    return spec_cache.get(definition.id, definition.content_hash, lambda: definition.spec)


def definition_forms(definition: Any) -> dict:
    """The (cached) task forms pinned on a ProcessDefinition row: {form_key: definition}.

    The hot paths load definitions without their forms column; it is read only on a miss."""
    return forms_cache.get(definition.id, definition.content_hash, lambda: definition.forms)


def dump_state(workflow: BpmnWorkflow) -> str:
    """The instance's state (task tree and data) as JSON, in Spiff's state-only format."""
    if not FAST_PATH or type(workflow) is not BpmnWorkflow:
        return reference_dump_state(workflow)
    dct = _state_dict(workflow)
    dct[_serializer.VERSION_KEY] = _serializer.VERSION
    return _state_json(dct)


def state_from_json(state: str, spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
    """A workflow from `dump_state` output, rebuilt onto the given (shared, cached) specs."""
    dct = _parsed_state(state)
    if not FAST_PATH or spec is None or dct.get("typename") != _WORKFLOW:
        return _serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    return _workflow_from_state(dct, spec, subprocess_specs)


def reference_dump_state(workflow: BpmnWorkflow) -> str:
    """`dump_state` through Spiff's registry: the fallback, and what the tests hold it to."""
    dct = _serializer.to_dict(workflow)
    dct[_serializer.VERSION_KEY] = _serializer.VERSION
    return _state_json(dct)


def reference_state_from_json(state: str, spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
    """`state_from_json` through Spiff's registry."""
    dct = _parsed_state(state)
    return _serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def _parsed_state(state: str) -> dict:
    """The stored JSON, migrated to the current format if an older Spiff wrote it."""
    dct = json.loads(state)
    version = dct.pop(_serializer.VERSION_KEY, None)
    if version != _serializer.VERSION:
        dct[_serializer.VERSION_KEY] = version
        _serializer.migrate(dct)
    return dct


def load_state(state: str, definition: Any, script_engine: Any) -> BpmnWorkflow:
    spec, subprocess_specs = definition_specs(definition)
    workflow = state_from_json(state, spec, subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def full_serializer() -> BpmnWorkflowSerializer:
    return _full_serializer


# --- Instance state: task tree and data, written and read without the generic registry --------
#
# The stored format is Spiff's own (StateOnlyWorkflowConverter above, i.e. BpmnWorkflowConverter,
# BpmnSubWorkflowConverter and TaskConverter), and must stay byte for byte what those write:
# rows already stored must load, and Spiff's serializer and migrations must read what we write.
# Going through the registry costs a generic dispatch for every task and every value, which was
# over a tenth of a Weft cycle; below, the same dicts are built by walking the tree directly.
# Values that are plain JSON are used as they are; anything else goes through the registry, so
# the typed encoding ({"typename": ...}) still comes from Spiff itself. `reference_dump_state`
# and `reference_state_from_json` are the registry path, kept as the fallback and for tests.

_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _mirrors_spiff() -> bool:
    """Whether the converters in use are the ones the fast path copies; if the configuration
    ever changes, everything goes through the registry instead of silently diverging."""
    plain_types = _JSON_SCALARS | {dict, list}
    return (
        _config[BpmnWorkflow] is StateOnlyWorkflowConverter
        and _config[BpmnSubWorkflow] is BpmnSubWorkflowConverter
        and _config[Task] is TaskConverter
        and not plain_types & _registry.typenames.keys()
    )


FAST_PATH = _mirrors_spiff()
_TASK = _registry.typenames[Task]
_SUBWORKFLOW = _registry.typenames[BpmnSubWorkflow]
_WORKFLOW = _registry.typenames[BpmnWorkflow]


def _only_json(value: Any, *, typename_is_typed: bool) -> bool:
    """True when `value` is only JSON scalars and dicts and lists of them, which the registry
    leaves as they are. Exact types only (a subclass may be registered, or a tuple may hold
    something that is); dict keys are never converted, so they need no check. When reading,
    a dict with a "typename" key is the registry's to restore (`typename_is_typed`)."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is dict:
        if typename_is_typed and "typename" in value:
            return False
        items = value.values()
    elif kind is list:
        items = value
    else:
        return False
    if _JSON_SCALARS.issuperset(map(type, items)):  # flat, the usual case: checked in C
        return True
    return all(_only_json(item, typename_is_typed=typename_is_typed) for item in items)


def _converted(value: Any) -> Any:
    """What `_registry.convert(value)` gives, as JSON. Plain values are not copied: the dict
    they go into is dumped at once and never kept."""
    if _only_json(value, typename_is_typed=False):
        return value
    return _registry.convert(_registry.clean(value))


def _task_dict(task: Task, names: dict) -> dict:
    """TaskConverter.to_dict. Task data goes in as it is (a root's whole, the others' changes
    from their parent): Spiff leaves it to its JSON encoder, which `_state_json` uses too, so a
    datetime a script kept is written typed, as Spiff's serialize_json writes it."""
    parent = task.parent
    if parent is None:
        data, delta = task.data, {}
    else:
        data = {}
        delta = {
            "updates": DeepMerge.get_updated_keys(parent.data, task.data),
            "deletions": DeepMerge.get_deleted_keys(parent.data, task.data),
        }
    return {
        "id": names.get(task.id) or str(task.id),
        "parent": (names.get(task._parent) or str(task._parent)) if parent is not None else None,
        "children": [names.get(child) or str(child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task.state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": _converted(task.internal_data),
        "data": data,
        "delta": delta,
        "typename": _TASK,
    }


def _workflow_fields(workflow: Any) -> dict:
    """WorkflowConverter.to_dict: what top-level workflows and subprocesses share."""
    # Every id is written three or four times (key, id, parent, children): format each once.
    names = {task_id: str(task_id) for task_id in workflow.tasks}
    tasks = {}
    for task_id, task in workflow.tasks.items():
        if type(task) is Task:
            tasks[names[task_id]] = _task_dict(task, names)
        else:
            tasks[names[task_id]] = _registry.convert(task)
    last_task = workflow.last_task
    return {
        "data": _converted(workflow.data),
        "correlations": workflow.correlations,
        "last_task": str(last_task.id) if last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": tasks,
        "root": str(workflow.task_tree.id),
    }


def _subworkflow_dict(subworkflow: Any) -> dict:
    if type(subworkflow) is not BpmnSubWorkflow:
        return _registry.convert(subworkflow)
    dct = _workflow_fields(subworkflow)
    dct["parent_task_id"] = str(subworkflow.parent_task_id)
    dct["spec"] = subworkflow.spec.name
    dct["typename"] = _SUBWORKFLOW
    return dct


def _state_dict(workflow: BpmnWorkflow) -> dict:
    """StateOnlyWorkflowConverter.to_dict plus the typename the registry adds."""
    dct = _workflow_fields(workflow)
    dct["subprocesses"] = {
        str(task_id): _subworkflow_dict(sub) for task_id, sub in workflow.subprocesses.items()
    }
    dct["bpmn_events"] = _converted(workflow.bpmn_events)
    dct["typename"] = _WORKFLOW
    return dct


def _restored_data(value: Any) -> Any:
    """Task and workflow data, restored like `_restored`, except that a dict naming a Spiff type
    that is not what Spiff writes for it (a form field "typename" whose value is "UUID") is the
    user's data and stays a dict: an instance must not become unloadable for its data."""
    if _only_json(value, typename_is_typed=True):
        return value
    kind = type(value)
    if kind is dict:
        if _registry._registered(value.get("typename")):
            try:
                return _registry.restore(value)
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # not a value Spiff wrote: data
        return {key: _restored_data(item) for key, item in value.items()}
    if kind is list:
        return [_restored_data(item) for item in value]
    return _registry.restore(value)


def _restored(value: Any) -> Any:
    """What `_registry.restore(value)` gives. Untyped values are used without the registry's
    deep copy: they come from a fresh json.loads that nothing else holds."""
    return value if _only_json(value, typename_is_typed=True) else _registry.restore(value)


class _Uuids(dict):
    """Parsed task ids of one load: each id is in the state up to four times, and parsing a
    UUID is the dearest step of restoring a task."""

    def __missing__(self, text: str) -> UUID:
        self[text] = parsed = UUID(text)
        return parsed


def _restore_task(dct: dict, workflow: Any, uuids: _Uuids) -> Task:
    """TaskConverter.from_dict."""
    if dct.get("typename") != _TASK:
        return _registry.restore(dct, workflow=workflow)
    task_spec = workflow.spec.task_specs.get(dct["task_spec"])
    task = Task(workflow, task_spec, state=dct["state"], id=uuids[dct["id"]])
    task._parent = uuids[dct["parent"]] if dct["parent"] is not None else None
    task._children = [uuids[child] for child in dct["children"]]
    task.last_state_change = dct["last_state_change"]
    task.triggered = dct["triggered"]
    task.internal_data = _restored(dct["internal_data"])
    if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
        task.workflow.top_workflow.event_manager.add_task(task)

    delta = dct.get("delta")
    parent = task.parent
    if delta and parent is not None:
        data = DeepMerge.merge({}, parent.data)
        data.update(_restored_data(delta.get("updates", {})))
        for key in delta.get("deletions", {}):
            if key in data:
                del data[key]
    else:
        data = _restored_data(dct["data"])
    task.data = data
    return task


def _restore_workflow_fields(workflow: Any, dct: dict, uuids: _Uuids) -> None:
    """The task tree and WorkflowConverter.set_default_attributes."""
    workflow.tasks = {
        uuids[task_id]: _restore_task(task, workflow, uuids)
        for task_id, task in dct["tasks"].items()
    }
    workflow.task_tree = workflow.tasks.get(uuids[dct["root"]])
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.pop("correlations", {})
    if isinstance(dct["last_task"], str):
        workflow.last_task = workflow.tasks.get(uuids[dct["last_task"]])
    workflow.data = _restored_data(dct.pop("data", {}))


def _restore_subworkflows(dct: dict, workflow: Any, top: BpmnWorkflow, uuids: _Uuids) -> None:
    """BpmnWorkflowConverter.subprocesses_from_dict: parents before their children."""
    for task in workflow.tasks.values():
        if isinstance(task.task_spec, SubWorkflowTask) and str(task.id) in dct:
            sub_dct = dct.pop(str(task.id))
            if sub_dct.get("typename") == _SUBWORKFLOW:
                spec = top.subprocess_specs.get(task.task_spec.spec)
                sub = BpmnSubWorkflow(spec, task.id, top, deserializing=True)
                _restore_workflow_fields(sub, sub_dct, uuids)
            else:
                sub = _registry.restore(sub_dct, task=task, top_workflow=top)
            top.subprocesses[task.id] = sub
            sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            _restore_subworkflows(dct, sub, top, uuids)


def _workflow_from_state(dct: dict, spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
    """StateOnlyWorkflowConverter.from_dict."""
    workflow = BpmnWorkflow(spec, subprocess_specs or {}, deserializing=True)
    uuids = _Uuids()
    _restore_workflow_fields(workflow, dct, uuids)
    _restore_subworkflows(dct["subprocesses"], workflow, workflow, uuids)
    workflow.bpmn_events = _restored(dct.pop("bpmn_events", []))
    return workflow
