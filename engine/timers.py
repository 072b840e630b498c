"""Firing due timers: each due row is claimed, fired and committed with its instance, once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.db import is_postgres
from core.errors import Conflict
from engine import runtime
from engine.models import ProcessInstance, Timer

log = logging.getLogger(__name__)
FIRING_STATUSES = ("running", "waiting")


@dataclass
class TickReport:
    fired: list[int] = field(default_factory=list)  # instance ids whose timers fired
    conflicts: int = 0
    errors: int = 0


def fire_due_timers(
    factory: sessionmaker[Session], now: datetime | None = None, limit: int = 10_000
) -> TickReport:
    """Fire every timer due before `now`, one instance per transaction."""
    now = now or clock.now()
    report = TickReport()
    seen: set[int] = set()
    with clock.frozen_at(now):
        for _ in range(limit):
            session = factory()
            try:
                fired = _fire_next(session, now, seen)
                if fired is None:
                    session.rollback()
                    break
                session.commit()
                if fired:
                    report.fired.append(fired)
            except Conflict:
                # Another scheduler or a user got there first; its commit holds the truth.
                session.rollback()
                report.conflicts += 1
            except Exception:
                session.rollback()
                report.errors += 1
                log.exception("firing a timer failed")
            finally:
                session.close()
    return report


def _fire_next(session: Session, now: datetime, seen: set[int]) -> int | None:
    """Claim one due timer and fire its instance. None when nothing is left to do."""
    query = (
        select(Timer)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.due_at < now, ProcessInstance.status.in_(FIRING_STATUSES))
        .order_by(Timer.due_at, Timer.id)
        .limit(1)
    )
    if seen:
        query = query.where(Timer.id.not_in(seen))
    if is_postgres(session):
        # Two schedulers never take the same row; the loser moves on to the next one.
        query = query.with_for_update(skip_locked=True, of=Timer)
    timer = session.scalar(query)
    if timer is None:
        return None
    seen.add(timer.id)
    instance = session.get(ProcessInstance, timer.instance_id)
    loaded = runtime.load(session, instance)
    loaded.workflow.refresh_timers()
    incident = runtime.run_engine(loaded)
    if incident is None and not _has_fired(loaded, timer):
        return 0  # not due by the engine's reckoning (e.g. exactly at the instant); later tick
    loaded.record("timer_fired", timer=timer.name, due_at=timer.due_at.isoformat())
    runtime.save(session, loaded, incident)
    return instance.id


def _has_fired(loaded: runtime.LoadedInstance, timer: Timer) -> bool:
    task = runtime.find_task(loaded.workflow, timer.task_id)
    if task is None or not task.has_state(TaskState.WAITING):
        return True
    # A cycle timer stays waiting after it fires, with its next due instant moved on.
    definition = task.task_spec.event_definition
    if not isinstance(definition, TimerEventDefinition):
        return False  # an event-based gateway still waiting: none of its events has fired
    return runtime.timer_due_at(task, definition) != timer.due_at
