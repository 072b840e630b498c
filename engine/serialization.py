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

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

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
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str):
    from uuid import UUID

    return UUID(value)


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = StateOnlyWorkflowConverter
_registry = BpmnWorkflowSerializer.configure(_config)
_serializer = BpmnWorkflowSerializer(_registry)
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
    dct = _serializer.to_dict(workflow)
    dct[_serializer.VERSION_KEY] = _serializer.VERSION
    return json.dumps(dct, separators=(",", ":"))


def state_from_json(state: str, spec: Any, subprocess_specs: dict) -> BpmnWorkflow:
    """A workflow from `dump_state` output, rebuilt onto the given (shared, cached) specs."""
    dct = json.loads(state)
    version = dct.pop(_serializer.VERSION_KEY, None)
    if version != _serializer.VERSION:
        dct[_serializer.VERSION_KEY] = version
        _serializer.migrate(dct)
    return _serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def load_state(state: str, definition: Any, script_engine: Any) -> BpmnWorkflow:
    spec, subprocess_specs = definition_specs(definition)
    workflow = state_from_json(state, spec, subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def full_serializer() -> BpmnWorkflowSerializer:
    return _full_serializer
