"""The start-rule job: read record events (audit entries) committed since the last run and
start the process of every active start rule that matches, after the record's commit.

Exactly once per (rule, event): the `start_rule_firing` row is the claim (a unique key) and is
written in the same transaction as the instance. A start that fails (process no longer deployed,
a broken start) leaves the firing `failed` with its error, visible through the admin API, and
is retried with backoff until it gives up as `dead`.

Reading the audit trail: entries are read in id order from a cursor. On PostgreSQL ids are
handed out before commit, so a slow transaction may commit an id below ones already read; the
cursor therefore only moves past entries older than SETTLE and newer ones are read again
(the firing key makes that harmless).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core import clock
from core.db import is_postgres
from core.errors import WeftError
from crm_domain.audit import AuditEntry
from crm_domain.collections import get_collection, subject_type_of
from crm_domain.record_service import to_dict
from crm_domain.reminders.models import RuleJobCursor, StartRule, StartRuleFiring
from crm_domain.reminders.start_rules import mapped_data, matches_event, meets_conditions
from crm_domain.users import User
from engine.definitions import current_definition
from engine.instances import start_instance
from engine.models import ProcessDefinition

log = logging.getLogger(__name__)
CURSOR = "start_rules"
SETTLE = timedelta(minutes=15)
PAGE = 500
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)


@dataclass
class StartReport:
    started: int = 0
    skipped: int = 0  # conditions not met, record gone
    failed: int = 0
    dead: int = 0


def process_exists(session: Session):
    """A check for rule validation: is a current version of this key deployed?"""

    def check(key: str) -> bool:
        return (
            session.scalar(
                select(ProcessDefinition.id)
                .where(ProcessDefinition.key == key, ProcessDefinition.is_current)
                .limit(1)
            )
            is not None
        )

    return check


def run_start_rules(factory: sessionmaker[Session], now: datetime | None = None) -> StartReport:
    now = now or clock.now()
    report = StartReport()
    with clock.frozen_at(now):
        _read_new_events(factory, now, report)
        _retry_failed(factory, now, report)
    return report


def _read_new_events(factory: sessionmaker[Session], now: datetime, report: StartReport) -> None:
    while True:
        with factory() as session:
            rules = list(session.scalars(select(StartRule).where(StartRule.active.is_(True))))
            if not rules:
                return
            cursor = session.get(RuleJobCursor, CURSOR)
            start = max(cursor.position if cursor else 0, min(r.after_entry_id for r in rules))
            entries = list(
                session.scalars(
                    select(AuditEntry)
                    .where(
                        AuditEntry.id > start,
                        AuditEntry.collection.in_({r.collection for r in rules}),
                    )
                    .order_by(AuditEntry.id)
                    .limit(PAGE)
                )
            )
            done: set[tuple[int, int]] = set()
            if entries:
                rows = session.execute(
                    select(StartRuleFiring.rule_id, StartRuleFiring.entry_id).where(
                        StartRuleFiring.entry_id.in_([e.id for e in entries])
                    )
                )
                done = {(rule_id, entry_id) for rule_id, entry_id in rows}
            work = [
                (rule.id, entry.id)
                for entry in entries
                for rule in rules
                if matches_event(rule, entry) and (rule.id, entry.id) not in done
            ]
            stamps = [(entry.id, entry.at) for entry in entries]
            session.rollback()
        for rule_id, entry_id in work:
            _fire(factory, rule_id, entry_id, now, report)
        settled = start
        for entry_id, entry_at in stamps:
            if entry_at > now - SETTLE:
                break
            settled = entry_id
        if settled > start:
            _move_cursor(factory, settled)
        if len(stamps) < PAGE or settled == start:
            return


def _move_cursor(factory: sessionmaker[Session], position: int) -> None:
    with factory() as session, session.begin():
        cursor = session.get(RuleJobCursor, CURSOR)
        if cursor is None:
            try:
                with session.begin_nested():
                    session.add(
                        RuleJobCursor(name=CURSOR, position=position, updated_at=clock.now())
                    )
            except IntegrityError:  # another scheduler created it just now
                cursor = session.get(RuleJobCursor, CURSOR)
        if cursor is not None and cursor.position < position:
            cursor.position, cursor.updated_at = position, clock.now()


def _fire(
    factory: sessionmaker[Session], rule_id: int, entry_id: int, now: datetime, report: StartReport
) -> None:
    session = factory()
    try:
        rule = session.get(StartRule, rule_id)
        entry = session.get(AuditEntry, entry_id)
        firing = StartRuleFiring(
            rule_id=rule_id,
            entry_id=entry_id,
            collection=entry.collection,
            record_id=entry.record_id,
            status="failed",
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(firing)
                session.flush()  # the claim
        except IntegrityError:
            session.rollback()
            return  # another scheduler has this event
        _attempt(session, rule, entry, firing, now, report)
        session.commit()
    except Exception:
        session.rollback()
        report.failed += 1
        log.exception("start rule %s on event %s failed", rule_id, entry_id)
    finally:
        session.close()


def _attempt(
    session: Session,
    rule: StartRule,
    entry: AuditEntry,
    firing: StartRuleFiring,
    now: datetime,
    report: StartReport,
) -> None:
    """Start the rule's process for the event; the outcome is written on the firing row."""
    firing.attempts += 1
    firing.updated_at = now
    collection = get_collection(rule.collection)
    record = session.get(collection.model, int(entry.record_id))
    if record is None:
        firing.status, firing.last_error, firing.next_attempt_at = "skipped", "record deleted", None
        report.skipped += 1
        return
    body = to_dict(session, None, rule.collection, record)
    if not meets_conditions(rule, body):
        firing.status, firing.last_error, firing.next_attempt_at = "skipped", None, None
        report.skipped += 1
        return
    try:
        with session.begin_nested():
            definition = current_definition(session, rule.process_key)
            starter = session.get(User, entry.user_id) if entry.user_id else None
            data = {
                **mapped_data(rule, body),
                "trigger": {
                    "rule_id": rule.id,
                    "rule_name": rule.name,
                    "event": rule.event,
                    "collection": rule.collection,
                    "record_id": record.id,
                    "entry_id": entry.id,
                },
            }
            instance = start_instance(
                session,
                starter if starter is not None and starter.is_active else None,
                rule.process_key,
                data=data,
                subject={"type": subject_type_of(rule.collection), "id": record.id},
                definition=definition,
            )
    except Exception as error:  # recorded on the firing, retried later
        message = (
            error.message if isinstance(error, WeftError) else f"{type(error).__name__}: {error}"
        )
        firing.last_error = message
        if firing.attempts >= MAX_ATTEMPTS:
            firing.status, firing.next_attempt_at = "dead", None
            report.dead += 1
        else:
            firing.status = "failed"
            firing.next_attempt_at = now + FIRST_RETRY * (2 ** (firing.attempts - 1))
            report.failed += 1
        return
    firing.status, firing.instance_id, firing.last_error = "started", instance.id, None
    firing.next_attempt_at = None
    report.started += 1


def _retry_failed(factory: sessionmaker[Session], now: datetime, report: StartReport) -> None:
    seen: set[int] = set()
    while True:
        session = factory()
        try:
            stmt = (
                select(StartRuleFiring)
                .where(StartRuleFiring.status == "failed", StartRuleFiring.next_attempt_at <= now)
                .order_by(StartRuleFiring.next_attempt_at, StartRuleFiring.id)
                .limit(1)
            )
            if seen:
                stmt = stmt.where(StartRuleFiring.id.not_in(seen))
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True)
            firing = session.scalar(stmt)
            if firing is None:
                session.rollback()
                return
            seen.add(firing.id)
            rule = session.get(StartRule, firing.rule_id)
            entry = session.get(AuditEntry, firing.entry_id)
            if rule is None or entry is None or not rule.active:
                firing.status, firing.next_attempt_at = "dead", None
                firing.last_error = (firing.last_error or "") + " (rule switched off)"
            else:
                _attempt(session, rule, entry, firing, now, report)
            session.commit()
        except Exception:
            session.rollback()
            log.exception("retrying a start rule firing failed")
            return
        finally:
            session.close()
