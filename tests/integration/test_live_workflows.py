"""The workflows a server keeps alive between requests (engine/live_workflows.py) never stand
in for what the database holds: a change written by another server process, or a change
rolled back, is what the next request sees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import live_workflows, runtime
from engine.instance_view import instance_path
from engine.instances import start_instance
from engine.models import HumanTask, ProcessInstance
from engine.tasks import complete_task
from tests.support import designer as quote

QUOTE = {"customer_name": "苏州锦华", "product": "T-200", "list_price": 100.0, "quoted_price": 95.0}


@pytest.fixture
def started(session, make_user):
    quote.deploy_version(session)
    seller = make_user("salesperson")
    row = start_instance(session, seller, quote.KEY)
    session.commit()
    task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == row.id))
    return seller, row, task_id


def test_a_change_written_by_another_server_process_is_what_this_one_sees(
    session, started, monkeypatch
):
    seller, row, task_id = started
    with monkeypatch.context() as other_process:  # keeps no workflows of its own
        other_process.setattr(live_workflows, "take", lambda *args: None)
        other_process.setattr(live_workflows, "keep", lambda *args: None)
        complete_task(session, seller, task_id, QUOTE)
        session.commit()

    # This process still holds the workflow as it was before the task was done.
    path = instance_path(session, session.get(ProcessInstance, row.id))
    assert path.current == [] and "prepare_quote" in path.completed


def test_a_change_rolled_back_leaves_the_task_to_do(session, started):
    seller, row, task_id = started
    loaded = runtime.load(session, row)
    done_in_memory = runtime.find_task(loaded.workflow, task_id)
    done_in_memory.data.update({**QUOTE, "quoted_price": 1.0})  # a 99 % discount ...
    done_in_memory.run()
    loaded.workflow.do_engine_steps()  # ... now waiting for a manager, in memory only
    session.rollback()  # the request failed before it saved

    task = complete_task(session, seller, task_id, QUOTE)  # a 5 % discount: no approval
    session.commit()
    assert task.status == "completed"
    assert session.get(ProcessInstance, row.id).status == "completed"


def test_kept_and_rebuilt_workflows_run_a_process_the_same_way(session, make_user, monkeypatch):
    quote.deploy_version(session)
    seller = make_user("salesperson")
    manager = make_user("sales_manager")

    def run_to_the_end() -> tuple[list, dict]:
        row = start_instance(session, seller, quote.KEY)
        prepare = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == row.id))
        complete_task(session, seller, prepare, {**QUOTE, "quoted_price": 80.0})
        approve = session.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == row.id, HumanTask.status == "open")
        )
        complete_task(session, manager, approve, {"decision": "approve", "comment": "ok"})
        session.commit()
        events = [(e.kind, e.task_name) for e in runtime_events(session, row.id)]
        return events, session.get(ProcessInstance, row.id).data

    kept = run_to_the_end()
    monkeypatch.setattr(live_workflows, "take", lambda *args: None)  # every load deserializes
    rebuilt = run_to_the_end()
    assert kept == rebuilt
    assert kept[0][-1] == ("completed", None)


def runtime_events(session, instance_id):
    from engine.models import InstanceEvent

    return session.scalars(
        select(InstanceEvent)
        .where(InstanceEvent.instance_id == instance_id)
        .order_by(InstanceEvent.id)
    ).all()
