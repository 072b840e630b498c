"""Who is acting, and the WHERE clause their data scope puts on every query.

The scope is applied in SQL, in the one place every list, detail, search, export and count goes
through; nothing is loaded and then filtered in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.errors import Forbidden
from crm_domain.org import OrgUnit, subtree_ids
from crm_domain.roles import Rights, rights_of
from crm_domain.users import User


@dataclass
class Actor:
    user: User
    rights: Rights
    unit_path: str | None

    @property
    def id(self) -> int:
        return self.user.id

    def require_grant(self, grant: str, what: str) -> None:
        if not self.rights.has_grant(grant):
            raise Forbidden(f"{what} needs the '{grant}' permission.")


def actor_for(session: Session, user: User) -> Actor:
    unit = session.get(OrgUnit, user.org_unit_id) if user.org_unit_id else None
    return Actor(user=user, rights=rights_of(session, user.roles), unit_path=unit and unit.path)


def scope_clause(model, actor: Actor, scope: str) -> ColumnElement[bool]:
    """Rows of `model` (with owner_id/org_unit_id) that `scope` lets the actor reach."""
    if scope == "all":
        return true()
    own = model.owner_id == actor.id
    if scope == "own" or actor.user.org_unit_id is None:
        return own
    if scope == "unit":
        return own | (model.org_unit_id == actor.user.org_unit_id)
    if scope == "subtree" and actor.unit_path:
        return own | model.org_unit_id.in_(subtree_ids(actor.unit_path))
    return false()


def required_scope(actor: Actor, collection: str, action: str) -> str:
    scope = actor.rights.scope(collection, action)
    if scope is None:
        raise Forbidden(f"You may not {action} {collection}.")
    return scope


def reaches(
    session: Session, actor: Actor, scope: str, owner_id: int | None, org_unit_id: int | None
) -> bool:
    """Whether a record owned by (owner_id, org_unit_id) lies within `scope` for the actor:
    the same rule as `scope_clause`, for a record that is not saved yet."""
    if scope == "all" or (owner_id is not None and owner_id == actor.id):
        return True
    if scope == "own" or actor.user.org_unit_id is None or org_unit_id is None:
        return False
    if scope == "unit":
        return org_unit_id == actor.user.org_unit_id
    if scope == "subtree" and actor.unit_path:
        return org_unit_id in set(session.scalars(subtree_ids(actor.unit_path)))
    return False
