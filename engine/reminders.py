"""The reminder job: evaluate the active reminder rules as of `now` and start one small
reminder instance (processes/reminders/reminder.bpmn) per due item, never one giant workflow.

Exactly once: each reminder first claims its key (rule, record, occurrence date) in
`fired_reminder` and starts its instance in the same transaction; a second run, a catch-up run
or a second scheduler finds the key taken and moves on. Due items are handled in batches, one
transaction each, so 5,000 reminders never make one huge transaction or hold locks for long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.clock import business_today
from core.errors import WeftError
from crm_domain.collections import subject_type_of
from crm_domain.notifications import notify
from crm_domain.outbox import enqueue
from crm_domain.reminders.evaluation import PlannedReminder, catch_up_window, due_occurrences, plan
from crm_domain.reminders.models import FiredReminder, ReminderRule
from crm_domain.reminders.recipients import RecipientFinder
from crm_domain.reminders.sources import Occurrence
from engine.instances import start_instance

log = logging.getLogger(__name__)
REMINDER_PROCESS_KEY = "reminder"
BATCH_SIZE = 200


@dataclass
class ReminderReport:
    created: int = 0
    already_fired: int = 0  # claimed meanwhile by another run or scheduler
    without_recipient: int = 0
    errors: int = 0
    batches: int = 0


def run_due_reminders(
    factory: sessionmaker[Session], now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> ReminderReport:
    """Create every reminder due as of `now` (and those missed in the catch-up window)."""
    now = now or clock.now()
    report = ReminderReport()
    with clock.frozen_at(now):
        first, last = catch_up_window(business_today())
        with factory() as session:
            rule_ids = list(
                session.scalars(
                    select(ReminderRule.id)
                    .where(ReminderRule.active.is_(True))
                    .order_by(ReminderRule.id)
                )
            )
        for rule_id in rule_ids:
            try:
                with factory() as session:
                    rule = session.get(ReminderRule, rule_id)
                    due = due_occurrences(session, rule, first, last) if rule else []
            except WeftError as error:  # e.g. its segment no longer works: say which and why
                report.errors += 1
                log.error("reminder rule %s not evaluated: %s %s", rule_id, error, error.details)
                continue
            except Exception:
                report.errors += 1
                log.exception("evaluating reminder rule %s failed", rule_id)
                continue
            for start in range(0, len(due), batch_size):
                _run_batch(factory, rule_id, due[start : start + batch_size], report)
    return report


def _run_batch(
    factory: sessionmaker[Session], rule_id: int, batch: list[Occurrence], report: ReminderReport
) -> None:
    session = factory()
    try:
        rule = session.get(ReminderRule, rule_id)
        if rule is None or not rule.active:  # switched off since the evaluation
            session.rollback()
            return
        finder = RecipientFinder(session)
        for occurrence in batch:
            fire_one(session, finder, rule, occurrence, report)
        session.commit()
        report.batches += 1
    except Exception:
        session.rollback()
        report.errors += 1
        log.exception("a batch of reminders for rule %s failed", rule_id)
    finally:
        session.close()


def fire_one(
    session: Session,
    finder: RecipientFinder,
    rule: ReminderRule,
    occurrence: Occurrence,
    report: ReminderReport,
) -> FiredReminder | None:
    """Claim the occurrence's key, then start its instance and notify, all or nothing."""
    try:
        with session.begin_nested():
            fired = FiredReminder(
                rule_id=rule.id,
                collection=rule.collection,
                record_id=occurrence.record_id,
                occurrence=occurrence.occurrence,
                fired_on=business_today(),
                created_at=clock.now(),
            )
            session.add(fired)
            session.flush()  # the claim: a unique key someone else may already hold
            planned = plan(session, finder, rule, occurrence)
            if planned is None:
                raise _RecordGone
            fired.recipient_ids = [u.id for u in planned.recipients]
            if not planned.recipients:
                # Kept as fired so it is not tried again every run; the preview shows why.
                report.without_recipient += 1
                return fired
            fired.instance_id = start_reminder_instance(session, planned).id
            send_notifications(session, planned, fired.instance_id)
            session.flush()
    except IntegrityError:
        report.already_fired += 1
        return None
    except _RecordGone:
        return None
    except WeftError as error:
        report.errors += 1
        log.warning("reminder %s/%s not created: %s", rule.id, occurrence, error.message)
        return None
    report.created += 1
    return fired


class _RecordGone(Exception):
    """The record was deleted between evaluation and firing."""


def start_reminder_instance(session: Session, planned: PlannedReminder):
    rule, occurrence = planned.rule, planned.occurrence
    primary = planned.recipients[0]
    data = {
        "message": planned.body,
        "messages": planned.messages,
        "title": planned.title,
        "due_date": occurrence.occurrence.isoformat(),
        "due_at": planned.due_at.isoformat(),
        "recipient": primary.username,
        "recipients": [u.username for u in planned.recipients],
        "reminder": {
            "rule_id": rule.id,
            "rule_name": rule.name,
            "kind": rule.kind,
            "collection": rule.collection,
            "record_id": occurrence.record_id,
            "occurrence": occurrence.occurrence.isoformat(),
            "holiday": occurrence.holiday,
        },
    }
    subject = {"type": subject_type_of(rule.collection), "id": occurrence.record_id}
    return start_instance(session, None, REMINDER_PROCESS_KEY, data=data, subject=subject)


def send_notifications(session: Session, planned: PlannedReminder, instance_id: int) -> None:
    """In-app and/or e-mail, through the notifications table and the outbox (after commit)."""
    channels = planned.rule.channels or ["in_app"]
    ids = [u.id for u in planned.recipients]
    link = f"/process-instances/{instance_id}"
    if "in_app" in channels:
        notify(session, ids, planned.title, planned.body, link=link, email="email" in channels)
        return
    for user in planned.recipients:  # e-mail only
        if user.email:
            enqueue(
                session,
                "email",
                None,
                "reminder",
                {
                    "to": user.email,
                    "name": user.display_name,
                    "subject": planned.title,
                    "body": planned.body,
                },
            )
