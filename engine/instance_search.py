"""Finding process instances for operators: by process, version, status, customer and start date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Incident, ProcessInstance

MAX_RESULTS = 200


@dataclass(frozen=True)
class InstanceFilter:
    process_key: str | None = None
    version: int | None = None
    status: str | None = None
    customer_id: int | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None


def find_instances(
    session: Session, criteria: InstanceFilter, limit: int = MAX_RESULTS
) -> tuple[list[tuple[ProcessInstance, int]], int]:
    """Matching instances newest first, each with its open incident count; and the total."""
    conditions = []
    if criteria.process_key:
        conditions.append(ProcessInstance.process_key == criteria.process_key)
    if criteria.version is not None:
        conditions.append(ProcessInstance.definition_version == criteria.version)
    if criteria.status:
        conditions.append(ProcessInstance.status == criteria.status)
    if criteria.customer_id is not None:
        conditions.append(ProcessInstance.subject_type == "customer")
        conditions.append(ProcessInstance.subject_id == str(criteria.customer_id))
    if criteria.started_from is not None:
        conditions.append(ProcessInstance.started_at >= criteria.started_from)
    if criteria.started_before is not None:
        conditions.append(ProcessInstance.started_at < criteria.started_before)
    total = session.scalar(select(func.count()).select_from(ProcessInstance).where(*conditions))
    open_incidents = (
        select(func.count())
        .where(Incident.instance_id == ProcessInstance.id, Incident.resolved_at.is_(None))
        .correlate(ProcessInstance)
        .scalar_subquery()
    )
    rows = session.execute(
        select(ProcessInstance, open_incidents)
        .where(*conditions)
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
        .limit(limit)
    )
    return [(instance, incidents) for instance, incidents in rows], total or 0
