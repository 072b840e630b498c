"""The org tree: subtree queries by path, moves that carry the whole subtree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import Invalid
from crm_domain.org import OrgUnit, create_org_unit, move_org_unit, subtree_ids
from crm_domain.roles import BUILT_IN, Rights, Role


def names_under(session, unit):
    ids = set(session.scalars(subtree_ids(unit.path)))
    return {u.name for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}


def test_a_move_rewrites_every_path_below_the_unit(session):
    group = create_org_unit(session, "集团", "group")
    east = create_org_unit(session, "华东", "branch", group.id)
    south = create_org_unit(session, "华南", "branch", group.id)
    suzhou = create_org_unit(session, "苏州", "office", east.id)
    team = create_org_unit(session, "一组", "team", suzhou.id)
    # A sibling of the moved unit stays where it is.
    create_org_unit(session, "杭州", "office", east.id)

    moved = move_org_unit(session, suzhou.id, south.id)

    assert moved.path == f"{south.path}{suzhou.id}/"
    assert session.get(OrgUnit, team.id).path == f"{south.path}{suzhou.id}/{team.id}/"
    assert session.get(OrgUnit, team.id).depth == 4
    assert names_under(session, south) == {"华南", "苏州", "一组"}
    assert names_under(session, east) == {"华东", "杭州"}
    with pytest.raises(Invalid):
        move_org_unit(session, south.id, team.id)
    to_top = move_org_unit(session, south.id, None)
    assert to_top.path == f"/{south.id}/" and to_top.parent_id is None
    assert session.get(OrgUnit, team.id).path.startswith(f"/{south.id}/{suzhou.id}/")


def test_rights_take_the_widest_scope_over_all_roles():
    def role(key):
        return Role(key=key, **BUILT_IN[key])

    both = Rights([role("salesperson"), role("service_agent")])

    assert both.scope("customers", "read") == "unit"  # service agent's unit beats "own"
    assert both.scope("customers", "update") == "own"  # only the salesperson may update
    assert both.scope("customers", "delete") is None
    assert both.has_grant("export") is False
    assert Rights([role("admin")]).scope("anything", "delete") == "all"
    assert Rights([role("sales_manager")]).has_grant("view_sensitive")
