"""End to end in headless chromium against the app served on localhost (Playwright).

A salesperson works a quote in the Chinese UI (a validation error first), a manager approves
it, a second browser finishing the same task is told so kindly, the login lockout holds, and
the language switch works. Screenshots of each main page go to var/screenshots/.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_domain.notifications import notify
from crm_domain.users import User
from engine.instances import start_instance
from engine.models import HumanTask
from tests.web.conftest import ui_login

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow


def _start_quote(committed_factory, user_id: int, customer_id: int) -> int:
    with committed_factory() as session:
        starter = session.get(User, user_id)
        instance = start_instance(
            session,
            starter,
            "quote_discount_approval",
            subject={"type": "customer", "id": customer_id},
        )
        session.commit()
        return instance.id


def _open_task_id(committed_factory, instance_id: int, bpmn_id: str) -> str:
    with committed_factory() as session:
        return session.scalar(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                HumanTask.bpmn_id == bpmn_id,
                HumanTask.status == "open",
            )
        )


def test_quote_from_salesperson_to_manager_in_chinese(
    browser, live_server, company_world, committed_factory, screenshot
):
    instance_id = _start_quote(committed_factory, company_world["sales"], company_world["customer"])

    sales = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = sales.new_page()
    ui_login(page, live_server, "wang.fang")
    page.click("[data-testid=tab-available]")
    page.wait_for_selector("[data-testid=task-row]")
    assert "准备报价" in page.inner_text("[data-testid=task-list]")
    assert "苏州锦程服饰有限公司" in page.inner_text("[data-testid=task-list]")
    screenshot(page, "inbox-available-zh")
    page.click("[data-testid=claim]")

    page.wait_for_selector("[data-testid=task-form]")
    assert "任务已认领" in page.inner_text("main")
    assert "填写标价和报价" in page.inner_text("[data-testid=instructions]")
    assert "苏州锦程服饰有限公司" in page.inner_text("[data-testid=customer-card]")
    page.fill("#f-customer_name", "苏州锦程服饰有限公司")
    page.fill("#f-list_price", "一百")
    page.fill("#f-quoted_price", "80")
    page.click("[data-testid=complete]")

    page.wait_for_selector(".field-error")
    product_field = page.locator("[data-field=product]")
    assert "此项为必填项" in product_field.inner_text()
    assert "请输入数字" in page.locator("[data-field=list_price]").inner_text()
    assert page.input_value("#f-customer_name") == "苏州锦程服饰有限公司"  # input kept
    assert page.input_value("#f-list_price") == "一百"
    screenshot(page, "task-validation-zh")

    page.fill("#f-product", "精梳棉府绸 40支")
    page.fill("#f-list_price", "100")
    page.click("[data-testid=complete]")
    page.wait_for_selector(".flash-success")
    assert "任务已完成" in page.inner_text(".flash-success")
    sales.close()

    manager = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = manager.new_page()
    ui_login(page, live_server, "li.qiang")
    page.goto(f"{live_server}/inbox?tab=available")
    row = page.locator("[data-testid=task-row]", has_text="经理审批")
    assert "高优先级" in row.inner_text()
    row.locator("[data-testid=claim]").click()
    page.wait_for_selector("[data-testid=task-form]")
    details = page.inner_text("[data-testid=process-data]")
    assert "折扣率" in details and "20" in details and "精梳棉府绸" in details
    screenshot(page, "task-approval-zh")
    page.check("input[name=decision][value=approve]")
    page.fill("#f-comment", "同意，注意回款周期。")
    page.click("[data-testid=complete]")
    page.wait_for_selector(".flash-success")
    page.click("[data-testid=tab-completed]")
    page.wait_for_selector("[data-testid=task-row]")
    assert "经理审批" in page.inner_text("[data-testid=task-list]")
    manager.close()

    with committed_factory() as session:
        statuses = session.scalars(
            select(HumanTask.status).where(HumanTask.instance_id == instance_id)
        ).all()
    assert sorted(statuses) == ["completed", "completed"]


def test_second_browser_completing_the_same_task_gets_a_friendly_message(
    browser, live_server, company_world, committed_factory, screenshot
):
    instance_id = _start_quote(committed_factory, company_world["sales"], company_world["customer"])
    task_id = _open_task_id(committed_factory, instance_id, "prepare_quote")
    pages = []
    for username in ("wang.fang", "liu.yang"):
        context = browser.new_context(viewport=LAPTOP)
        page = context.new_page()
        ui_login(page, live_server, username)
        page.goto(f"{live_server}/tasks/{task_id}")
        page.fill("#f-customer_name", "苏州锦程服饰有限公司")
        page.fill("#f-product", "涤棉混纺布")
        page.fill("#f-list_price", "50")
        page.fill("#f-quoted_price", "48")
        pages.append(page)
    first, second = pages
    first.click("[data-testid=complete]")
    first.wait_for_selector(".flash-success")
    second.click("[data-testid=complete]")
    notice = second.wait_for_selector("[data-testid=task-notice]")
    assert "王芳" in notice.inner_text() and "完成了此任务" in notice.inner_text()
    assert second.locator("[data-testid=task-form]").count() == 0
    assert second.locator("[data-testid=back-to-inbox]").is_visible()
    screenshot(second, "task-conflict-zh")
    for page in pages:
        page.context.close()


def test_login_lockout_and_language_switch(
    browser, live_server, company_world, committed_factory, screenshot
):
    with committed_factory() as session:
        notify(
            session,
            [company_world["sales"]],
            "报价 #12 已批准",
            "李强批准了苏州锦程服饰有限公司的报价（折扣 20%）。",
            link="/inbox",
            email=False,
        )
        session.commit()
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    assert "登录 Weft CRM" in page.inner_text("h1")
    screenshot(page, "login-zh")
    for _ in range(5):
        page.fill("input[name=username]", "li.qiang")
        page.fill("input[name=password]", "wrong-password-1")
        page.click("[data-testid=login-submit]")
    assert "登录失败次数过多" in page.inner_text("[data-testid=login-error]")
    ui_login(page, live_server, "li.qiang")  # the right password, still locked
    assert "登录失败次数过多" in page.inner_text("[data-testid=login-error]")

    ui_login(page, live_server, "wang.fang")
    page.wait_for_selector("[data-testid=tab-mine]")
    assert "我的任务" in page.inner_text("[data-testid=tab-mine]")
    assert page.inner_text("[data-testid=unread-count]") == "1"
    page.click("[data-testid=bell]")
    assert "报价 #12 已批准" in page.inner_text("[data-testid=notification]")
    screenshot(page, "notifications-zh")
    page.click("[data-testid=mark-read]")
    page.wait_for_selector("[data-testid=notification]")
    assert page.locator("[data-testid=unread-count]").count() == 0
    page.goto(f"{live_server}/inbox")
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("[data-testid=tab-mine]")
    assert "My tasks" in page.inner_text("[data-testid=tab-mine]")
    assert "Inbox" in page.inner_text("nav.main-nav")
    screenshot(page, "inbox-en")
    page.click("[data-testid=lang-zh]")
    page.wait_for_selector("[data-testid=tab-mine]")
    assert "我的任务" in page.inner_text("[data-testid=tab-mine]")
    context.close()


def test_inbox_and_task_fit_a_phone(
    browser, live_server, company_world, committed_factory, screenshot
):
    instance_id = _start_quote(committed_factory, company_world["sales"], company_world["customer"])
    task_id = _open_task_id(committed_factory, instance_id, "prepare_quote")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    ui_login(page, live_server, "wang.fang")
    page.goto(f"{live_server}/inbox?tab=available")
    page.wait_for_selector("[data-testid=task-row]")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "inbox-phone-zh")
    page.goto(f"{live_server}/tasks/{task_id}")
    page.wait_for_selector("[data-testid=task-form]")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "task-phone-zh")
    context.close()
