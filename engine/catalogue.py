"""The process catalogue: every key with all its versions, who deployed each, and its instances.

One query for the versions and one grouped count for the instances, so the page stays cheap
however many instances have run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_domain.users import User
from engine.models import ProcessDefinition, ProcessInstance

# Instances that still hold work (what "running on a version" means to a designer).
ACTIVE_STATUSES = ("running", "waiting", "suspended", "error")


@dataclass
class VersionSummary:
    id: int
    key: str
    version: int
    name: str
    is_current: bool
    deployed_at: datetime
    deployed_by: str | None
    active_instances: int = 0
    finished_instances: int = 0


@dataclass
class CatalogueEntry:
    key: str
    name: str
    current_version: int | None
    versions: list[VersionSummary] = field(default_factory=list)

    @property
    def active_instances(self) -> int:
        return sum(v.active_instances for v in self.versions)


def process_catalogue(session: Session, key: str | None = None) -> list[CatalogueEntry]:
    """Every key (or just `key`) with its versions newest first; names from the current one."""
    query = (
        select(ProcessDefinition, User.display_name, User.username)
        .outerjoin(User, User.id == ProcessDefinition.deployed_by_id)
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    )
    if key is not None:
        query = query.where(ProcessDefinition.key == key)
    counts = _instance_counts(session, key)
    entries: dict[str, CatalogueEntry] = {}
    for definition, display_name, username in session.execute(query):
        active, finished = counts.get(definition.id, (0, 0))
        summary = VersionSummary(
            id=definition.id,
            key=definition.key,
            version=definition.version,
            name=definition.name,
            is_current=definition.is_current,
            deployed_at=definition.deployed_at,
            deployed_by=display_name or username,
            active_instances=active,
            finished_instances=finished,
        )
        entry = entries.setdefault(
            definition.key, CatalogueEntry(definition.key, definition.name, None)
        )
        entry.versions.append(summary)
        if definition.is_current:
            entry.current_version = definition.version
            entry.name = definition.name
    return list(entries.values())


def _instance_counts(session: Session, key: str | None) -> dict[int, tuple[int, int]]:
    is_active = ProcessInstance.status.in_(ACTIVE_STATUSES)
    query = select(ProcessInstance.definition_id, is_active, func.count()).group_by(
        ProcessInstance.definition_id, is_active
    )
    if key is not None:
        query = query.where(ProcessInstance.process_key == key)
    counts: dict[int, list[int]] = {}
    for definition_id, active, number in session.execute(query):
        counts.setdefault(definition_id, [0, 0])[0 if active else 1] += number
    return {definition_id: (a, f) for definition_id, (a, f) in counts.items()}
