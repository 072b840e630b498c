"""Instance state is written and read without Spiff's generic registry, in exactly its format.

Every stored row must keep loading, and Spiff's own serializer and migrations must keep reading
what Weft writes: so the direct writer must give the registry's bytes, and the direct reader
the registry's workflow. The shipped approval processes are run here stage by stage, saving and
loading between steps as Weft does; tests/processes/test_state_format.py does the same for
every save of whole sales and service runs.
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import serialization
from engine.parsing import UploadedFile, parse_bundle
from engine.scripting import make_script_engine
from engine.serialization import (
    dump_state,
    full_serializer,
    reference_dump_state,
    specs_to_dict,
    state_from_json,
)
from tests.conftest import PROCESSES
from tests.support.bpmn import HEADER, linear_process, script_task, timer_event, user_task
from tests.support.state_checks import assert_loads_alike, checked_dump, facts

ACTING_USER = {"id": 7, "username": "li.na", "display_name": "李娜", "roles": ["salesperson"]}
SCRIPT_ENGINE = make_script_engine({"acting_user": lambda: dict(ACTING_USER)})
QUOTE = {"customer_name": "苏州锦华", "product": "T-200", "list_price": 100.0}


def caller_process() -> bytes:
    """A process that calls the shipped `approval` as a call activity, as sales.bpmn does."""
    steps = [("start", "ask"), ("ask", "approve"), ("approve", "record"), ("record", "end")]
    body = (
        '<bpmn:process id="credit_request" isExecutable="true"><bpmn:startEvent id="start"/>'
        + script_task("ask", 'request_type = "credit_limit"\namount = requested_limit')
        + '<bpmn:callActivity id="approve" calledElement="approval"/>'
        + script_task("record", "credit_limit = requested_limit if approved else 0")
        + '<bpmn:endEvent id="end"/>'
        + "".join(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
            for i, (a, b) in enumerate(steps)
        )
        + "</bpmn:process></bpmn:definitions>"
    )
    return (HEADER.format(pid="credit_request") + body).encode()


def _processes(extra: list[UploadedFile] = ()) -> dict:
    folder = PROCESSES / "approval"
    files = [UploadedFile(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    return {p.key: p for p in parse_bundle([*files, *extra]).processes}


@pytest.fixture(scope="module")
def processes() -> dict:
    return _processes([UploadedFile("credit_request.bpmn", caller_process())])


class Run:
    """One instance, saved and reloaded after every step the way Weft does, each save and load
    checked against the registry's."""

    def __init__(self, process, **data):
        self.spec, self.subs = process.spec, process.subprocess_specs
        self.workflow = BpmnWorkflow(self.spec, self.subs, script_engine=SCRIPT_ENGINE)
        self.workflow.task_tree.data.update(data)
        self.workflow.do_engine_steps()
        self.states: list[str] = []
        self.save_and_load()

    def save_and_load(self) -> str:
        state = checked_dump(self.workflow)
        assert_loads_alike(state, self.spec, self.subs)
        self.states.append(state)
        self.workflow = state_from_json(state, self.spec, self.subs)
        self.workflow.script_engine = SCRIPT_ENGINE
        return state

    def ready(self) -> list[str]:
        return sorted(t.task_spec.name for t in self.workflow.get_tasks(state=TaskState.READY))

    def complete(self, spec_name: str, **data) -> str:
        [task] = [t for t in self.workflow.get_tasks(state=TaskState.READY, spec_name=spec_name)]
        task.data.update(data)
        task.run()
        self.workflow.do_engine_steps()
        return self.save_and_load()


def test_the_direct_path_is_the_one_in_use():
    # If Spiff's converters were configured differently, every state would silently go the
    # slow way; this says so instead.
    assert serialization.FAST_PATH


def test_quote_discount_approval_auto_approved(processes):
    run = Run(processes["quote_discount_approval"])
    assert run.ready() == ["prepare_quote"]
    run.complete("prepare_quote", **QUOTE, quoted_price=97.0)
    assert run.workflow.is_completed()


def test_quote_discount_approval_through_the_manager(processes):
    run = Run(processes["quote_discount_approval"])
    run.complete("prepare_quote", **QUOTE, quoted_price=70.0)
    assert run.ready() == ["manager_approval"]
    run.complete("manager_approval", decision="approve", comment="同意 ✓ — 季末促销")
    assert run.workflow.is_completed()


def test_approval_rejected_revised_and_approved(processes):
    run = Run(
        processes["approval"],
        request_type="discount",
        percentage=12,
        request_title="QT-18-1 苏州锦华家具有限公司",
    )
    assert run.ready() == ["sales_manager_approval"]
    run.complete("sales_manager_approval", decision="reject", comment="折扣太大，最多 5%")
    assert run.ready() == ["revise_request"]
    run.complete(
        "revise_request", revise_action="revise", new_percentage=10, revision_note="改为 10%"
    )
    run.complete("sales_manager_approval", decision="approve", comment="")
    assert run.workflow.is_completed()
    history = run.workflow.last_task.data["approval_history"]
    assert [entry["decision"] for entry in history] == ["reject", "revise", "approve"]


def test_approval_called_from_another_process(processes):
    run = Run(processes["credit_request"], requested_limit=350_000, customer_grade="B")
    assert run.workflow.subprocesses  # the call activity's own task tree is in the state
    subprocess_states = [json.loads(state)["subprocesses"] for state in run.states]
    assert all(subprocess_states)
    run.complete("sales_manager_approval", decision="approve", comment="额度合理")
    assert run.ready() == ["executive_approval"]
    run.complete("executive_approval", decision="approve", comment="")
    assert run.workflow.is_completed()
    assert run.workflow.last_task.data["credit_limit"] == 350_000


def test_a_waiting_timer(processes):
    bpmn = linear_process(
        "reminder_wait",
        script_task("plan", 'wait = "PT2H"\nitems = [{"sku": "WP-18", "qty": 3}]'),
        timer_event("two_hours", "PT2H"),
        user_task("follow_up", "回访 Follow up"),
    )
    process = _processes([UploadedFile("reminder_wait.bpmn", bpmn)])["reminder_wait"]
    run = Run(process)
    [waiting] = run.workflow.get_tasks(state=TaskState.WAITING)
    assert waiting.internal_data["event_value"]  # when it fires, kept in the state
    assert facts(run.workflow)["waiting_events"] == [str(waiting.id)]


class Level(IntEnum):
    LOW = 1


ODD_VALUES = {
    "datetime": datetime(2027, 3, 31, 9, 0, tzinfo=UTC),
    "naive datetime": datetime(2027, 3, 31, 9, 0, 5, 120),
    "timedelta": timedelta(days=2, seconds=30),
    "uuid": UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": Decimal("9500.00"),
    "set": {1, 2},
    "tuple": (1, "二", None),
    "tuple holding a datetime": (datetime(2027, 1, 1), 1),
    "nested": {"lines": [{"sku": "WP-18", "due": datetime(2027, 1, 1)}], "n": [1, [2.5, None]]},
    "nested plain": {"客户": {"名称": "苏州锦华", "等级": "B"}, "values": [1, 2.5, True, None, ""]},
    "bool and int": [True, 1, False, 0, 1.0],
    "non-string keys": {1: "one", 2.5: "x", None: "none", False: "no"},
    "float specials": [math.inf, -0.0, 1e308],
    "int enum": Level.LOW,
    "ordered dict": OrderedDict([("b", 1), ("a", datetime(2027, 1, 1))]),
    "dict subclass, plain": OrderedDict([("b", 1), ("a", 2)]),
    "empty containers": {"d": {}, "l": []},
    "callable": len,
    "module": os,
    "key named typename": {"typename": "a form field"},
}


def _started(processes) -> BpmnWorkflow:
    workflow = BpmnWorkflow(
        processes["quote_discount_approval"].spec,
        processes["quote_discount_approval"].subprocess_specs,
        script_engine=SCRIPT_ENGINE,
    )
    workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize("place", ["workflow data", "internal data", "root data", "task data"])
@pytest.mark.parametrize("name", list(ODD_VALUES))
def test_any_value_is_written_as_the_registry_writes_it(processes, place, name):
    """Typed values in workflow and internal data go through the registry; task data is kept
    as it is (Spiff's own choice) and encoded by Spiff's JSON encoder, so a datetime there is
    written typed, and what neither can hold (a Decimal) fails both paths alike."""
    workflow = _started(processes)
    value = ODD_VALUES[name]
    if place == "workflow data":
        workflow.data["value"] = value
    elif place == "internal data":
        workflow.get_next_task(state=TaskState.READY).internal_data["value"] = value
    elif place == "root data":
        workflow.task_tree.data["value"] = value
    else:
        workflow.get_next_task(state=TaskState.READY).data["value"] = value
    if name == "decimal":  # JSON holds no Decimal and Spiff registers none: both refuse it
        with pytest.raises(TypeError):
            checked_dump(workflow)
        return
    state = checked_dump(workflow)
    assert_loads_alike(state, workflow.spec, workflow.subprocess_specs)


def test_pending_bpmn_events_are_written_by_the_registry(processes):
    workflow = _started(processes)
    payload = {"amount": "9500.00", "paid_on": datetime(2027, 3, 20, tzinfo=UTC)}
    workflow.bpmn_events.append(BpmnEvent(MessageEventDefinition("payment_received"), payload))
    state = checked_dump(workflow)
    assert json.loads(state)["bpmn_events"][0]["typename"] == "BpmnEvent"
    assert_loads_alike(state, workflow.spec, workflow.subprocess_specs)
    restored = state_from_json(state, workflow.spec, workflow.subprocess_specs)
    assert restored.bpmn_events[0].payload == payload


def test_deleted_and_changed_keys_of_a_task_are_kept(processes):
    run = Run(processes["quote_discount_approval"])
    task = run.workflow.get_next_task(state=TaskState.READY)
    task.parent.data["draft"] = {"note": "草稿"}
    task.data = {"fresh": [1, 2], "nested": {"deep": {"deeper": ["值"]}}}
    state = run.save_and_load()
    [stored] = [t for t in json.loads(state)["tasks"].values() if t["id"] == str(task.id)]
    assert stored["delta"]["deletions"] == ["draft"]
    assert run.workflow.get_task_from_id(task.id).data == task.data


def test_a_state_the_old_writer_stored_loads_the_same(processes):
    run = Run(processes["approval"], request_type="discount", percentage=12)
    old_row = reference_dump_state(run.workflow)  # what rows written before this change hold
    loaded = state_from_json(old_row, run.spec, run.subs)
    assert facts(loaded) == facts(run.workflow)
    assert dump_state(loaded) == old_row


def test_spiffs_own_serializer_reads_the_state_with_its_specs(processes):
    run = Run(processes["credit_request"], requested_limit=80_000, customer_grade="A")
    state = json.loads(run.states[-1])
    whole = json.dumps({**state, **specs_to_dict(run.spec, run.subs)})
    by_spiff = full_serializer().deserialize_json(whole)
    assert facts(by_spiff) == facts(state_from_json(run.states[-1], run.spec, run.subs))


def test_a_broken_task_in_a_stored_state_fails_to_load_on_both_readers(processes):
    """Data may hold a "typename" that is not Spiff's, but Spiff's own objects must not be
    quietly read as data when they are broken: the load fails where the damage is."""
    workflow = _started(processes)
    state = json.loads(dump_state(workflow))
    next(iter(state["tasks"].values())).pop("state")
    broken = json.dumps(state)
    with pytest.raises(KeyError):
        state_from_json(broken, workflow.spec, workflow.subprocess_specs)
    with pytest.raises(KeyError):
        serialization.reference_state_from_json(broken, workflow.spec, workflow.subprocess_specs)
