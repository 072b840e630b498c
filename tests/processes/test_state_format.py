"""Every state the shipped sales and service processes save is what Spiff's registry would have
written, byte for byte, and reads back the same through both readers.

engine.serialization writes and reads instance state by walking the task tree itself (the
registry's generic dispatch was a tenth of a cycle); rows stored before, and Spiff's own
serializer, depend on the format staying exactly the same. Here each save of whole runs (call
activity, embedded subprocess, boundary timers, messages with correlations) is checked.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core import clock
from engine import runtime
from tests.processes.approval_support import complete
from tests.processes.sales_support import MANAGER_APPROVAL, at
from tests.processes.service_support import (
    CONFIRM,
    DIAGNOSE,
    REPAIR,
    SATISFACTION,
    SUPERVISE,
)
from tests.support.state_checks import assert_loads_alike, checked_dump


class CheckedSaves:
    """Stands in for runtime.dump_state: checks each save, keeps the states for the test."""

    def __init__(self):
        self.states: list[dict] = []

    def __call__(self, workflow) -> str:
        state = checked_dump(workflow)
        assert_loads_alike(state, workflow.spec, workflow.subprocess_specs)
        self.states.append(json.loads(state))
        return state

    def with_subprocesses(self) -> list[dict]:
        return [state for state in self.states if state["subprocesses"]]

    def with_waiting_timers(self) -> list[dict]:
        def timers(tasks):
            return [t for t in tasks.values() if "event_value" in t["internal_data"]]

        return [
            state
            for state in self.states
            if timers(state["tasks"])
            or any(timers(sub["tasks"]) for sub in state["subprocesses"].values())
        ]


@pytest.fixture
def saves(monkeypatch) -> CheckedSaves:
    checked = CheckedSaves()
    monkeypatch.setattr(runtime, "dump_state", checked)
    return checked


def test_a_sale_through_approval_reminders_and_payments(team, saves):
    started = team.start_lead(lead_title="E1 板材 年度采购 — 第一批")
    team.qualify(started["id"], expected_close="2027-01-31")
    team.quote(started["id"], quantity=100, discount=12, quote_notes="含运费 ✓")
    # 12 %: the approval process runs as a call activity, its tree inside the caller's state.
    approval = team.task(team.manager, started["id"], MANAGER_APPROVAL, scope="available")
    complete(team.manager, approval, decision="approve", comment="季末促销 同意")
    body = team.sign_and_order(started["id"], "2027-03-31")
    order_no, total = body["data"]["order_no"], Decimal(body["data"]["order"]["total"])

    assert team.tick("2027-03-28T01:01:00Z") == [body["id"]]  # the reminder timer
    assert team.tick("2027-04-01T01:01:00Z") == [body["id"]]  # overdue
    assert team.pay(order_no, "1000", "2027-04-03") == [body["id"]]  # a message, correlated
    assert team.pay(order_no, str(total - 1000), "2027-04-05") == [body["id"]]
    done = team.instance(body["id"])
    assert done["status"] == "completed", done["incidents"]

    assert len(saves.states) >= 10
    assert saves.with_subprocesses(), "the call activity was never saved"
    assert saves.with_waiting_timers(), "no save had a timer waiting"
    assert any(state["correlations"] for state in saves.states)


def test_a_service_request_with_its_subprocess_and_sla_escalation(desk, saves):
    with clock.frozen_at(at("2026-12-01T02:00:00Z")):
        request = desk.new_request(priority="normal")
        body = desk.start(request)
    agent = desk.agent_of(body)
    assert desk.tick("2026-12-04T02:01:00Z") == [body["id"]]  # the SLA boundary timer
    with clock.frozen_at(at("2026-12-04T05:00:00Z")):
        desk.do(agent, body["id"], DIAGNOSE, diagnosis="洗涤不当", remedy="repair")
        desk.do(desk.manager_a, body["id"], SUPERVISE, action_taken="已督促 Visit today")
        desk.do(agent, body["id"], REPAIR, work_done="上门处理")
        desk.do(agent, body["id"], CONFIRM, customer_confirmed="resolved")
        body = desk.do(agent, body["id"], SATISFACTION, satisfaction=4)
    assert body["status"] == "completed"

    assert saves.with_subprocesses(), "the embedded subprocess was never saved"
    assert saves.with_waiting_timers(), "no save had the SLA timer waiting"
