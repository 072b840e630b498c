"""An admin adds a required custom field to customers; the salesperson's next "new customer"
form in headless chromium shows it required, refuses a save without it (message next to the
field, other input kept) and saves with it. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm_domain.custom_fields import define_field
from crm_domain.customers import Customer
from tests.web.conftest import ui_login

LAPTOP = {"width": 1366, "height": 900}

pytestmark = pytest.mark.slow


def test_required_custom_field_reaches_the_next_customer_form(
    browser, live_server, company_world, committed_factory, screenshot
):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "wang.fang")
    page.goto(f"{live_server}/customers")
    page.click("[data-testid=new-customer]")
    assert page.locator("[data-field='custom.main_fabric']").count() == 0

    with committed_factory() as session:  # the admin adds the field meanwhile
        define_field(
            session,
            "customers",
            {
                "name": "main_fabric",
                "type": "text",
                "required": True,
                "label": {"zh": "主营面料", "en": "Main fabric"},
                "help": {"zh": "例如：精梳棉、涤纶、真丝", "en": "e.g. combed cotton, silk"},
            },
        )
        session.commit()

    page.reload()
    field = page.locator("[data-field='custom.main_fabric']")
    assert field.count() == 1
    assert "主营面料" in field.inner_text() and field.locator(".required").count() == 1
    page.fill("[name=name]", "绍兴柯桥恒丰印染有限公司")
    page.fill("[name=region]", "浙江 绍兴")
    page.fill("[name=phone]", "0575-84561234")
    with page.expect_navigation():
        page.click("[data-testid=save]")

    assert page.locator("[data-testid=form-errors]").is_visible()
    error = field.locator(".field-error")
    assert error.is_visible() and "必填" in error.inner_text()
    assert page.input_value("[name=name]") == "绍兴柯桥恒丰印染有限公司"  # input kept
    assert page.input_value("[name=region]") == "浙江 绍兴"
    screenshot(page, "customer-form-required-zh")
    with committed_factory() as session:
        assert session.scalar(select(Customer).where(Customer.region == "浙江 绍兴")) is None

    page.fill("[name='custom.main_fabric']", "涤纶、仿真丝")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/customers/\d+$"))
    assert "客户已保存" in page.inner_text("body")
    assert "涤纶、仿真丝" in page.inner_text("[data-testid=custom-fields]")
    screenshot(page, "customer-form-saved-zh")
    with committed_factory() as session:
        saved = session.scalar(select(Customer).where(Customer.region == "浙江 绍兴"))
        assert saved.custom["main_fabric"] == "涤纶、仿真丝"
    context.close()
