"""Everything about one customer for the 360 page: the merged timeline, the processes about
them and the tasks still open in those processes.

The CRM part of the timeline is `crm_domain.timeline` (scoped reads of every collection that
belongs to customers, plus changes to the customer record); process history is added here
because crm_domain does not know the engine — the same composition as
`GET /api/v1/customers/{id}/timeline`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_domain import timeline
from crm_domain.access import Actor
from crm_domain.exchange.columns import exchange_format
from engine.models import HumanTask, InstanceEvent, ProcessInstance
from web.ui.i18n import is_chinese
from web.ui.inbox_query import process_names
from web.ui.process_labels import event_label

SUBJECT_TYPE = "customer"  # what processes put in subject.type for a customer
# History kinds worth a line on a customer's story (task_created etc. would drown it).
STORY_EVENTS = ("started", "task_completed", "completed", "cancelled", "incident")


@dataclass
class CustomerStory:
    items: list[dict] = field(default_factory=list)
    instances: list[ProcessInstance] = field(default_factory=list)
    open_tasks: list[HumanTask] = field(default_factory=list)


def instances_about(session: Session, customer_id: int) -> list[ProcessInstance]:
    return list(
        session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.subject_type == SUBJECT_TYPE,
                ProcessInstance.subject_id == str(customer_id),
            )
            .order_by(ProcessInstance.id.desc())
        )
    )


def _readable_changes(session: Session, items: list[dict]) -> None:
    """Audit entries arrive as "update grade, region": say it in the reader's language."""
    lang = "zh" if is_chinese() else "en"
    labels = {
        c.name: c.label.get(lang) or c.name for c in exchange_format(session, "customers").columns
    }
    separator = "、" if lang == "zh" else ", "
    for item in items:
        if item["kind"] != "changes":
            continue
        action, _space, fields = item["title"].partition(" ")
        if action == "create":
            item["title"] = _("Customer record created")
        elif action == "delete":
            item["title"] = _("Customer record deleted")
        else:
            names = [labels.get(f.strip(), f.strip()) for f in fields.split(",") if f.strip()]
            item["title"] = _("Changed: %(fields)s", fields=separator.join(names))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def customer_story(session: Session, actor: Actor, customer_id: int, limit: int = 100):
    """The customer's story, newest first; NotFound when the customer is outside scope."""
    items = timeline.timeline_items(session, actor, customer_id, limit)
    instances = instances_about(session, customer_id)
    names = process_names(session)
    by_id = {i.id: i for i in instances}
    if by_id:
        events = session.scalars(
            select(InstanceEvent)
            .where(InstanceEvent.instance_id.in_(by_id), InstanceEvent.kind.in_(STORY_EVENTS))
            .order_by(InstanceEvent.id.desc())
            .limit(limit)
        )
        for event in events:
            instance = by_id[event.instance_id]
            items.append(
                {
                    "kind": "process",
                    "at": event.at,
                    "title": event_label(event.kind),
                    "id": event.instance_id,
                    "event": event.kind,
                    "process": names.get(instance.process_key, instance.process_key),
                    "task_name": event.task_name,
                }
            )
    _readable_changes(session, items)
    dated = [item for item in items if item["at"] is not None]
    dated.sort(key=lambda item: _aware(item["at"]), reverse=True)
    open_tasks = []
    if by_id:
        open_tasks = list(
            session.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id.in_(by_id), HumanTask.status == "open")
                .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
            )
        )
    return CustomerStory(items=dated[:limit], instances=instances, open_tasks=open_tasks)
