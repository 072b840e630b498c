"""Who a reminder goes to: the record's owner, the owner's manager, holders of a role.

Whoever is chosen, a reminder only reaches people whose own data scope lets them read the
record: a contract of branch B is never reminded to someone in branch A.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_domain.access import Actor, actor_for, reaches
from crm_domain.org import OrgUnit, subtree_ids
from crm_domain.reminders.models import ReminderRule
from crm_domain.users import User


class RecipientFinder:
    """Resolves recipients for many records of one job run, caching users and scopes."""

    def __init__(self, session: Session):
        self.session = session
        self._actors: dict[int, Actor | None] = {}
        self._units: dict[int, OrgUnit | None] = {}

    def recipients(self, rule: ReminderRule, record) -> list[User]:
        chosen: list[User] = []
        for item in rule.recipients:
            kind, _, role = item.partition(":")
            if kind == "owner":
                found = self._owner(record)
            elif kind == "manager":
                found = self._managers(record, rule.manager_role)
            else:
                found = self._role_holders(record, role)
            for user in found:
                if user not in chosen and self._may_read(user, rule.collection, record):
                    chosen.append(user)
        return chosen

    def _owner(self, record) -> list[User]:
        owner = self.session.get(User, record.owner_id) if record.owner_id else None
        return [owner] if owner is not None and owner.is_active else []

    def _unit(self, unit_id: int | None) -> OrgUnit | None:
        if unit_id is None:
            return None
        if unit_id not in self._units:
            self._units[unit_id] = self.session.get(OrgUnit, unit_id)
        return self._units[unit_id]

    def _managers(self, record, manager_role: str) -> list[User]:
        """Holders of the manager role in the owner's unit, else the nearest unit above it."""
        owner = self._owner(record)
        unit = self._unit(owner[0].org_unit_id if owner else record.org_unit_id)
        if unit is None:
            return []
        path_ids = [int(part) for part in unit.path.strip("/").split("/") if part]
        users = self.session.scalars(
            select(User).where(User.org_unit_id.in_(path_ids), User.is_active)
        ).all()
        owner_id = owner[0].id if owner else None
        for unit_id in reversed(path_ids):  # nearest first
            here = [
                u
                for u in users
                if u.org_unit_id == unit_id and u.has_role(manager_role) and u.id != owner_id
            ]
            if here:
                return sorted(here, key=lambda u: u.id)
        return []

    def _role_holders(self, record, role: str) -> list[User]:
        """Holders of the role in the record's unit, the units above it and the units below it."""
        unit = self._unit(record.org_unit_id)
        if unit is None:
            return []
        path_ids = [int(part) for part in unit.path.strip("/").split("/") if part]
        users = self.session.scalars(
            select(User)
            .where(
                User.is_active,
                or_(User.org_unit_id.in_(path_ids), User.org_unit_id.in_(subtree_ids(unit.path))),
            )
            .order_by(User.id)
        ).all()
        return [u for u in users if u.has_role(role)]

    def _may_read(self, user: User, collection: str, record) -> bool:
        if user.id not in self._actors:
            self._actors[user.id] = actor_for(self.session, user)
        actor = self._actors[user.id]
        scope = actor.rights.scope(collection, "read")
        if scope is None:
            return False
        return reaches(self.session, actor, scope, record.owner_id, record.org_unit_id)
