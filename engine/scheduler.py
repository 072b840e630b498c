"""The scheduler's jobs: fire due timers, send the outbox. In `weft scheduler` and `weft serve`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from crm_domain.analytics.recompute import run_queued as run_queued_recomputes
from crm_domain.analytics.recompute import run_scheduled as run_scheduled_recompute
from crm_domain.outbox import Sender, dispatch_due
from crm_domain.senders import outbox_senders
from engine.reminders import run_due_reminders
from engine.start_rules import run_start_rules
from engine.timers import fire_due_timers

log = logging.getLogger(__name__)
TICK_SECONDS = 5
# Reminder rules are evaluated hourly (and at start-up): each reminder is created once, on the
# first run of its day, and a run after downtime catches up on the days it missed.
REMINDER_MINUTES = 60


def tick(factory: sessionmaker[Session], senders: dict[str, Sender] | None = None) -> None:
    report = fire_due_timers(factory)
    if report.fired or report.errors:
        log.info(
            "timers: fired for %d instance(s), %d conflict(s), %d error(s)",
            len(report.fired),
            report.conflicts,
            report.errors,
        )
    started = run_start_rules(factory)
    if started.started or started.failed or started.dead:
        log.info(
            "start rules: %d started, %d failed (to retry), %d gave up",
            started.started,
            started.failed,
            started.dead,
        )
    sent = dispatch_due(factory, senders or outbox_senders(Settings.from_env().smtp_url))
    if sent.sent or sent.retried or sent.dead:
        log.info("outbox: %d sent, %d to retry, %d gave up", sent.sent, sent.retried, sent.dead)


def _add_jobs(scheduler, factory: sessionmaker[Session]) -> None:
    # One run at a time per process; several processes are safe (rows are claimed).
    scheduler.add_job(
        tick,
        "interval",
        seconds=TICK_SECONDS,
        args=[factory, outbox_senders(Settings.from_env().smtp_url)],
        id="timers",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        reminders_job,
        "interval",
        minutes=REMINDER_MINUTES,
        args=[factory],
        id="reminders",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    # Customer analytics: a full recompute nightly at 02:30 China time, and any recompute
    # still queued (requested on demand just before a restart) picked up every minute.
    scheduler.add_job(
        run_scheduled_recompute,
        "cron",
        hour=18,
        minute=30,
        args=[factory],
        id="analytics",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        run_queued_recomputes,
        "interval",
        seconds=60,
        args=[factory],
        id="analytics-queue",
        max_instances=1,
        coalesce=True,
    )


def reminders_job(factory: sessionmaker[Session]) -> None:
    report = run_due_reminders(factory)
    if report.created or report.errors:
        log.info(
            "reminders: %d created, %d already there, %d without recipient, %d error(s)",
            report.created,
            report.already_fired,
            report.without_recipient,
            report.errors,
        )


def start_background(factory: sessionmaker[Session]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    _add_jobs(scheduler, factory)
    scheduler.start()
    return scheduler


def run_blocking(factory: sessionmaker[Session]) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, factory)
    scheduler.start()
