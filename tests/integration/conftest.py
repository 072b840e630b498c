"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest

from crm_domain.org import create_org_unit


@pytest.fixture
def company(session, make_user, api_as):
    """Group → branch A (→ office A1) and branch B, with people in each."""
    group = create_org_unit(session, "锦华集团", "group")
    branch_a = create_org_unit(session, "华东分公司", "branch", group.id)
    office_a1 = create_org_unit(session, "苏州办事处", "office", branch_a.id)
    branch_b = create_org_unit(session, "华南分公司", "branch", group.id)
    session.commit()

    def person(*roles, unit):
        return api_as(user=make_user(*roles, org_unit_id=unit.id))

    class Company:
        units = {"group": group, "a": branch_a, "a1": office_a1, "b": branch_b}
        sales_a1 = person("salesperson", unit=office_a1)
        sales_a1_peer = person("salesperson", unit=office_a1)
        sales_b = person("salesperson", unit=branch_b)
        manager_a = person("sales_manager", unit=branch_a)
        manager_b = person("sales_manager", unit=branch_b)
        executive = person("executive", unit=group)
        service_a1 = person("service_agent", unit=office_a1)
        admin = person("admin", unit=group)
        designer = person("process_designer", unit=group)

    return Company
