"""The scheduler's jobs: fire due timers, send the outbox. In `weft scheduler` and `weft serve`."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from crm_domain.outbox import Sender, dispatch_due
from crm_domain.senders import outbox_senders
from engine.timers import fire_due_timers

log = logging.getLogger(__name__)
TICK_SECONDS = 5


def tick(factory: sessionmaker[Session], senders: dict[str, Sender] | None = None) -> None:
    report = fire_due_timers(factory)
    if report.fired or report.errors:
        log.info(
            "timers: fired for %d instance(s), %d conflict(s), %d error(s)",
            len(report.fired),
            report.conflicts,
            report.errors,
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


def start_background(factory: sessionmaker[Session]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    _add_jobs(scheduler, factory)
    scheduler.start()
    return scheduler


def run_blocking(factory: sessionmaker[Session]) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, factory)
    scheduler.start()
