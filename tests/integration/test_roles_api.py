"""Roles are rows: an admin widens or narrows a scope and it applies on the next request."""

from __future__ import annotations

from crm_domain.org import create_org_unit


def test_a_role_change_applies_on_the_next_request(session, make_user, api_as):
    office = create_org_unit(session, "宁波办事处", "office")
    session.commit()
    admin = api_as("admin")
    alice = api_as(user=make_user("salesperson", org_unit_id=office.id))
    bob = api_as(user=make_user("salesperson", org_unit_id=office.id))
    alice.post("/api/v1/customers", json={"name": "宁波申洲针织"})
    assert bob.get("/api/v1/customers").get_json()["total"] == 0

    widened = admin.patch(
        "/api/v1/admin/roles/salesperson",
        json={"permissions": {"customers": {"actions": ["read"], "scope": "unit"}}},
    )

    assert widened.status_code == 200, widened.get_json()
    assert bob.get("/api/v1/customers").get_json()["total"] == 1
    # Narrowed to nothing: even the owner can no longer read customers.
    admin.patch("/api/v1/admin/roles/salesperson", json={"permissions": {}})
    assert alice.get("/api/v1/customers").status_code == 403


def test_admins_add_roles_and_bad_rights_are_refused(api_as, make_user):
    admin = api_as("admin")
    created = admin.post(
        "/api/v1/admin/roles",
        json={
            "key": "quality_inspector",
            "name": {"zh": "质检员", "en": "Quality inspector"},
            "permissions": {"products": {"actions": ["read"], "scope": "all"}},
            "grants": ["export"],
        },
    )
    assert created.status_code == 201, created.get_json()
    inspector = api_as(user=make_user("quality_inspector"))
    assert inspector.get("/api/v1/products").status_code == 200
    assert inspector.get("/api/v1/customers").status_code == 403

    bad = admin.post(
        "/api/v1/admin/roles",
        json={
            "key": "9lives",
            "permissions": {"planets": {}, "customers": {"actions": ["fly"], "scope": "galaxy"}},
            "grants": ["everything"],
        },
    )
    assert bad.status_code == 422
    details = bad.get_json()["error"]["details"]
    assert {"key", "permissions.planets", "permissions.customers.actions", "grants"} <= set(details)
    assert "permissions.customers.scope" in details
    assert admin.post("/api/v1/admin/roles", json={"key": "quality_inspector"}).status_code == 409
    manager = api_as("sales_manager")
    assert manager.patch("/api/v1/admin/roles/user", json={"grants": []}).status_code == 403


def test_a_custom_role_with_the_deploy_grant_may_upload_processes(api_as, make_user):
    from tests.integration.test_quote_approval_api import QUOTE_FILES

    admin = api_as("admin")
    admin.post(
        "/api/v1/admin/roles",
        json={"key": "flow_editor", "permissions": {}, "grants": ["deploy_processes"]},
    )
    editor = api_as(user=make_user("flow_editor"))
    assert editor.upload(*QUOTE_FILES).status_code == 201
    assert api_as("sales_manager").upload(*QUOTE_FILES).status_code == 403
