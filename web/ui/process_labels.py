"""Process words a reader sees: instance statuses and history event kinds, in their language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "running": _l("Running"),
    "waiting": _l("Waiting"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    "suspended": _l("Suspended"),
    "error": _l("Error"),
}

EVENT_LABELS = {
    "started": _l("Process started"),
    "task_created": _l("Task created"),
    "task_claimed": _l("Task claimed"),
    "task_unclaimed": _l("Task handed back"),
    "task_completed": _l("Task completed"),
    "completed": _l("Process completed"),
    "cancelled": _l("Process cancelled"),
    "suspended": _l("Process suspended"),
    "resumed": _l("Process resumed"),
    "incident": _l("Incident"),
    "retried": _l("Step retried"),
    "timer_fired": _l("Timer fired"),
    "message_received": _l("Message received"),
}


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind.replace("_", " ")))
