"""One instance, one writer: real threads, real connections, real commits."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from core import clock
from core.config import Settings
from core.db import unit_of_work
from core.security import issue_token
from crm_domain.users import create_user
from engine.definitions import deploy_files
from engine.instances import start_instance
from engine.models import InstanceEvent, ProcessInstance
from engine.parsing import UploadedFile
from engine.timers import fire_due_timers
from tests.conftest import TEST_SECRET
from tests.support.bpmn import linear_process, script_task, timer_event, user_task
from web.app import create_app

THREADS = 8


def _deploy(factory, key, bpmn):
    with unit_of_work(factory) as session:
        deploy_files(session, [UploadedFile(f"{key}.bpmn", bpmn)], None, 5_000_000)


def test_concurrent_completion_exactly_one_wins(committed_factory, database_url, tmp_path):
    _deploy(
        committed_factory,
        "race",
        linear_process(
            "race",
            user_task("do", "Do it"),
            script_task("count", "n = n + 1"),
            lanes={"salesperson": ["start", "do", "count", "end"]},
        ),
    )
    with unit_of_work(committed_factory) as session:
        users = [
            create_user(session, f"racer{i}", "password-123", ["salesperson"])
            for i in range(THREADS)
        ]
        instance = start_instance(session, users[0], "race", {"n": 0})
        ids = [u.id for u in users]
        instance_id = instance.id
    with unit_of_work(committed_factory) as session:
        from engine.models import HumanTask

        task_id = session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id))

    app = create_app(
        Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path),
        session_factory=committed_factory,
    )
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    lock = threading.Lock()

    def complete(user_id: int) -> None:
        token, _ = issue_token(TEST_SECRET, user_id, 600)
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=complete, args=(uid,)) for uid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(statuses) == [200] + [409] * (THREADS - 1), statuses
    with unit_of_work(committed_factory) as session:
        row = session.get(ProcessInstance, instance_id)
        assert row.status == "completed"
        assert row.data["n"] == 1  # the script after the task ran exactly once
        completions = session.scalar(
            select(func.count()).where(
                InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "task_completed"
            )
        )
        assert completions == 1


def test_two_schedulers_fire_each_timer_exactly_once(committed_factory):
    _deploy(
        committed_factory,
        "tick_once",
        linear_process(
            "tick_once", timer_event("wait", '"PT10M"'), script_task("after", "fired = True")
        ),
    )
    t0 = clock.now()
    with clock.frozen_at(t0), unit_of_work(committed_factory) as session:
        instance_ids = [start_instance(session, None, "tick_once").id for _ in range(12)]

    reports = []
    barrier = threading.Barrier(2)

    def scheduler() -> None:
        barrier.wait()
        reports.append(fire_due_timers(committed_factory, t0 + timedelta(minutes=11)))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    fired = sorted(i for r in reports for i in r.fired)
    assert fired == sorted(instance_ids)  # every instance once, none twice
    assert sum(r.errors for r in reports) == 0
    with unit_of_work(committed_factory) as session:
        counts = dict(
            session.execute(
                select(InstanceEvent.instance_id, func.count())
                .where(InstanceEvent.kind == "timer_fired")
                .group_by(InstanceEvent.instance_id)
            ).all()
        )
        assert counts == {i: 1 for i in instance_ids}
        statuses = set(
            session.scalars(
                select(ProcessInstance.status).where(ProcessInstance.id.in_(instance_ids))
            )
        )
        assert statuses == {"completed"}
