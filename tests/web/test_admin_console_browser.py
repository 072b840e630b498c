"""The administrator console in real Chromium against the app served over HTTP, on the real
test database: a required custom field, a reminder rule's lead days and its preview, and a role
change that hides a branch's customers from a user on their next click."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from core.clock import business_today
from crm_domain import record_service
from crm_domain.access import actor_for
from crm_domain.org import create_org_unit
from crm_domain.roles import Role, create_role
from crm_domain.settings import is_working_day
from crm_domain.users import User, create_user
from tests.web.conftest import PASSWORD, ui_login

LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture
def console_world(committed_factory):
    """Committed: two branches with a salesperson and a customer each, and an administrator."""
    with committed_factory() as session:
        group = create_org_unit(session, "锦华纺织集团", "group")
        east = create_org_unit(session, "华东分公司", "branch", group.id)
        south = create_org_unit(session, "华南分公司", "branch", group.id)
        admin = create_user(session, "admin.chen", PASSWORD, ["admin"], "陈静", group.id)
        east_sales = create_user(session, "wang.fang", PASSWORD, ["salesperson"], "王芳", east.id)
        south_sales = create_user(session, "he.ming", PASSWORD, ["salesperson"], "何明", south.id)
        as_admin = actor_for(session, admin)
        customers = {}
        for owner, name in (
            (east_sales, "苏州锦程服饰有限公司"),
            (south_sales, "广州华彩面料有限公司"),
        ):
            customers[name] = record_service.create_record(
                session, as_admin, "customers", {"name": name, "owner_id": owner.id}
            )
        session.commit()
        ids = {
            "group": group.id,
            "east": east.id,
            "south": south.id,
            "admin": admin.id,
            "east_sales": east_sales.id,
            "customers": {k: v.id for k, v in customers.items()},
        }
    return ids


def _admin_page(browser, live_server, lang="zh-CN"):
    context = browser.new_context(viewport=LAPTOP, locale=lang, accept_downloads=True)
    page = context.new_page()
    ui_login(page, live_server, "admin.chen")
    page.wait_for_url("**/inbox**")
    return page


def test_an_admin_adds_a_required_customer_field_and_the_next_create_requires_it(
    browser, live_server, console_world, screenshot
):
    page = _admin_page(browser, live_server)
    page.click("text=系统管理")
    page.wait_for_selector("[data-testid=field-form]")
    page.fill("input[name=name]", "credit_code")
    page.fill("input[name=label_zh]", "统一社会信用代码")
    page.fill("input[name=label_en]", "Unified credit code")
    page.fill("input[name=help_zh]", "18 位,见营业执照")
    page.check("input[name=required]")
    # The live preview draws the new input, marked required, before anything is saved.
    # (each keystroke redraws it; wait for the drawing that has the box ticked)
    required = page.locator("#field-preview [data-field=credit_code] input[aria-required=true]")
    required.wait_for()
    assert "统一社会信用代码" in page.inner_text("#field-preview [data-field=credit_code]")
    screenshot(page, "admin-field-preview-zh")
    page.click("[data-testid=field-save]")
    page.wait_for_selector("[data-field-row=credit_code]")
    assert "字段“credit_code”已添加" in page.inner_text("main")
    screenshot(page, "admin-fields-zh")

    # No customer create page exists in the staff UI yet: the next create goes through the API,
    # over the same live server, as the salesperson.
    api = page.context.request
    token = api.post(
        f"{live_server}/api/v1/auth/token", data={"username": "wang.fang", "password": PASSWORD}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    refused = api.post(
        f"{live_server}/api/v1/customers", data={"name": "无锡新纺"}, headers=headers
    )
    assert refused.status == 422
    assert "custom.credit_code" in refused.json()["error"]["details"]
    accepted = api.post(
        f"{live_server}/api/v1/customers",
        data={"name": "无锡新纺", "custom": {"credit_code": "91320200MA1XXXXX0X"}},
        headers=headers,
    )
    assert accepted.status == 201
    page.context.close()


def test_an_admin_changes_a_reminder_rules_lead_days_and_the_preview_follows(
    browser, live_server, console_world, committed_factory, screenshot
):
    with committed_factory() as session:
        # An expiry whose 7- and 12-day reminders both fall on working days: a reminder due on
        # a day off moves to the working day before (tested on its own elsewhere).
        ends_on = business_today() + timedelta(days=20)
        while not all(is_working_day(session, ends_on - timedelta(days=lead)) for lead in (7, 12)):
            ends_on += timedelta(days=1)
        admin = session.get(User, console_world["admin"])
        record_service.create_record(
            session,
            actor_for(session, admin),
            "contracts",
            {
                "customer_id": console_world["customers"]["苏州锦程服饰有限公司"],
                "contract_no": "HT-2026-031",
                "title": "年度面料供货合同",
                "ends_on": ends_on.isoformat(),
                "status": "active",
                "owner_id": console_world["east_sales"],
            },
        )
        session.commit()
    page = _admin_page(browser, live_server)
    page.goto(f"{live_server}/admin/rules/reminders/new")
    page.fill("input[name=name]", "合同到期提醒")
    page.select_option("select[name=collection]", "contracts")
    page.fill("input[name=date_field]", "ends_on")
    page.fill("input[name=days]", "7")
    page.check("input[name=to_owner]")
    page.check("input[name=channel_in_app]")
    page.fill("textarea[name=message_zh]", "合同 {contract.number} 将于 {due_date} 到期")
    page.check("input[name=active]")
    page.click("[data-testid=rule-save]")
    page.wait_for_selector("[data-testid=preview-item]")
    first = (ends_on - timedelta(days=7)).isoformat()
    assert page.inner_text("[data-testid=fires-on]").startswith(first)

    # Typing a new lead time redraws the preview at once, before saving.
    page.fill("input[name=days]", "12")
    later = (ends_on - timedelta(days=12)).isoformat()
    page.wait_for_function(
        "d => document.querySelector('[data-testid=fires-on]').textContent.includes(d)", arg=later
    )
    screenshot(page, "admin-reminder-preview-zh")
    page.click("[data-testid=rule-save]")
    page.wait_for_selector("text=提醒规则已保存")
    assert page.inner_text("[data-testid=fires-on]").startswith(later)
    assert page.input_value("input[name=days]") == "12"
    page.context.close()


def test_a_role_change_hides_a_branchs_customers_from_a_user_at_once(
    browser, live_server, console_world, committed_factory, screenshot
):
    with committed_factory() as session:
        create_role(
            session,
            "regional_viewer",
            {"zh": "区域查看员", "en": "Regional viewer"},
            {"customers": {"actions": ["read"], "scope": "all"}},
            [],
        )
        create_user(
            session, "zhou.jie", PASSWORD, ["regional_viewer"], "周杰", console_world["east"]
        )
        session.commit()
    try:
        viewer = browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
        ui_login(viewer, live_server, "zhou.jie")
        viewer.wait_for_url("**/inbox**")
        viewer.goto(f"{live_server}/customers")
        listing = viewer.inner_text("main")
        assert "广州华彩面料有限公司" in listing and "苏州锦程服饰有限公司" in listing

        page = _admin_page(browser, live_server)
        page.goto(f"{live_server}/admin/roles")
        screenshot(page, "admin-roles-matrix-zh")
        page.click("[data-testid=role-regional_viewer]")
        page.select_option("select[name='scope.customers']", "subtree")
        screenshot(page, "admin-role-edit-zh")
        page.click("[data-testid=role-save]")
        page.wait_for_selector("text=已保存")

        viewer.reload()  # the very next request, no sign-out
        listing = viewer.inner_text("main")
        assert "苏州锦程服饰有限公司" in listing
        assert "广州华彩面料有限公司" not in listing
        screenshot(viewer, "admin-role-effect-user-zh")
        page.context.close()
        viewer.context.close()
    finally:
        with committed_factory() as session:
            session.execute(delete(Role).where(Role.key == "regional_viewer"))
            session.commit()


def test_the_console_in_english_and_a_designer_is_turned_away(
    browser, live_server, console_world, committed_factory, screenshot
):
    with committed_factory() as session:
        create_user(session, "designer.li", PASSWORD, ["process_designer"], "李设计")
        session.commit()
    page = _admin_page(browser, live_server, lang="en")
    page.click("[data-testid=lang-en]")
    for path, name in (
        ("/admin/users", "admin-users-en"),
        ("/admin/org", "admin-org-en"),
        ("/admin/settings", "admin-settings-en"),
        ("/admin/audit", "admin-audit-en"),
        ("/admin/backup", "admin-backup-en"),
    ):
        page.goto(f"{live_server}{path}")
        assert page.locator("[data-testid=console-menu]").is_visible()
        screenshot(page, name)
    designer = browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
    ui_login(designer, live_server, "designer.li")
    designer.wait_for_url("**/inbox**")
    response = designer.goto(f"{live_server}/admin/roles/salesperson")
    assert response.status == 403
    assert "系统管理" not in designer.inner_text("header")  # no console link for a designer
    designer.context.close()
    page.context.close()
