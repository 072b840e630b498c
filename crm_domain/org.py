"""The org tree: group → headquarters → subsidiaries → branches → offices → teams, any depth.

Each unit stores its materialized path (`/1/4/9/`), so "this unit and everything under it" is
one indexed `LIKE '/1/4/%'` query, and moving a unit rewrites its subtree's paths in a single
UPDATE. Records point at units by id, so moving a unit moves its people and records with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, func, literal, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, UtcDateTime
from core.digits import as_id, is_digits
from core.errors import Invalid, NotFound
from crm_domain.admin_audit import record_admin_change, snapshot

UNIT_KINDS = ("group", "headquarters", "subsidiary", "branch", "office", "workshop", "team")


class OrgUnit(Base):
    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="team")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), index=True, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1


def _check(name: str | None, kind: str | None) -> None:
    errors = {}
    if name is not None and not (1 <= len(name.strip()) <= 200):
        errors["name"] = ["Give a name of 1 to 200 characters."]
    if kind is not None and kind not in UNIT_KINDS:
        errors["kind"] = [f"Use one of: {', '.join(UNIT_KINDS)}."]
    if errors:
        raise Invalid("The org unit is not valid.", details=errors)


def get_org_unit(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(f"Org unit {unit_id} does not exist.")
    return unit


def create_org_unit(
    session: Session,
    name: str,
    kind: str = "team",
    parent_id: int | None = None,
    *,
    actor: Any = None,
) -> OrgUnit:
    _check(name, kind)
    parent = _parent(session, parent_id)
    unit = OrgUnit(name=name.strip(), kind=kind, parent_id=parent_id)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    _audit(session, actor, unit, None)
    return unit


def _audit(session: Session, actor: Any, unit: OrgUnit, before: dict | None) -> None:
    after = snapshot(unit, frozenset({"created_at"}))
    record_admin_change(session, actor, "org_unit", f"{unit.id} {unit.name}", before, after)


def _parent(session: Session, parent_id: int | None) -> OrgUnit | None:
    if parent_id is None:
        return None
    parent = session.get(OrgUnit, parent_id)
    if parent is None:
        raise Invalid("The parent unit does not exist.", details={"parent_id": ["Not found."]})
    return parent


def rename_org_unit(
    session: Session, unit_id: int, name: str, kind: str | None = None, *, actor: Any = None
) -> OrgUnit:
    _check(name, kind)
    unit = get_org_unit(session, unit_id)
    before = snapshot(unit, frozenset({"created_at"}))
    unit.name = name.strip()
    if kind is not None:
        unit.kind = kind
    session.flush()
    _audit(session, actor, unit, before)
    return unit


def move_org_unit(
    session: Session, unit_id: int, new_parent_id: int | None, *, actor: Any = None
) -> OrgUnit:
    unit = get_org_unit(session, unit_id)
    before = snapshot(unit, frozenset({"created_at"}))
    parent = _parent(session, new_parent_id)
    if parent is not None and parent.path.startswith(unit.path):
        raise Invalid(
            "A unit cannot move under itself or one of its own sub-units.",
            details={"parent_id": ["Choose a unit outside this unit's subtree."]},
        )
    old_path = unit.path
    new_path = f"{parent.path if parent else '/'}{unit.id}/"
    session.execute(
        update(OrgUnit)
        .where(OrgUnit.path.startswith(old_path, autoescape=True))
        .values(path=literal(new_path) + func.substr(OrgUnit.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OrgUnit)
        .where(OrgUnit.id == unit.id)
        .values(parent_id=new_parent_id)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    moved = get_org_unit(session, unit_id)
    _audit(session, actor, moved, before)
    return moved


def subtree_ids(path: str):
    """A subquery of the ids of the unit at `path` and all units below it."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(path, autoescape=True))


def list_org_units(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).order_by(OrgUnit.path)))


def find_org_unit(session: Session, id_or_name: str) -> OrgUnit:
    """A unit by id ("12") or by its exact name ("苏州办事处"); names must be unambiguous."""
    if is_digits(id_or_name):
        unit_id = as_id(id_or_name)
        if unit_id is None:
            raise NotFound(f"There is no org unit {id_or_name}.")
        return get_org_unit(session, unit_id)
    matches = list(session.scalars(select(OrgUnit).where(OrgUnit.name == id_or_name).limit(2)))
    if len(matches) != 1:
        problem = "No org unit has" if not matches else "Several org units have"
        raise Invalid(
            f"{problem} the name '{id_or_name}'; give its id instead.",
            details={"org_unit": ["Not found." if not matches else "Ambiguous."]},
        )
    return matches[0]
