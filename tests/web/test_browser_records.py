"""Customer 360, record lists and the process instance page in headless chromium (Playwright)
against the app served on localhost. Screenshots go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from crm_domain.access import actor_for
from crm_domain.record_service import create_record
from crm_domain.users import User
from engine.instances import start_instance
from engine.models import HumanTask
from engine.tasks import claim_task, complete_task
from tests.web.conftest import ui_login

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow


def _open_task(session, instance_id: int, bpmn_id: str) -> HumanTask:
    return session.scalar(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == bpmn_id,
            HumanTask.status == "open",
        )
    )


def _approved_quote(committed_factory, world) -> int:
    """A quote prepared by the salesperson and approved by the manager (services, committed)."""
    with committed_factory() as session:
        sales, manager = session.get(User, world["sales"]), session.get(User, world["manager"])
        instance = start_instance(
            session,
            sales,
            "quote_discount_approval",
            subject={"type": "customer", "id": world["customer"]},
        )
        task = _open_task(session, instance.id, "prepare_quote")
        claim_task(session, sales, task.id)
        complete_task(
            session,
            sales,
            task.id,
            {
                "customer_name": "苏州锦程服饰有限公司",
                "product": "精梳棉府绸 40支",
                "list_price": 100,
                "quoted_price": 80,
            },
        )
        approval = _open_task(session, instance.id, "manager_approval")
        claim_task(session, manager, approval.id)
        complete_task(session, manager, approval.id, {"decision": "approve", "comment": "同意"})
        create_record(
            session,
            actor_for(session, sales),
            "interactions",
            {"customer_id": world["customer"], "channel": "visit", "summary": "上门送样，客户满意"},
        )
        create_record(
            session,
            actor_for(session, sales),
            "contacts",
            {"customer_id": world["customer"], "name": "赵敏", "mobile": "13800001111"},
        )
        session.commit()
        return instance.id


def test_customer_page_tells_the_whole_story_after_a_quote_is_approved(
    browser, live_server, company_world, committed_factory, screenshot
):
    instance_id = _approved_quote(committed_factory, company_world)
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "wang.fang")
    page.click("nav.main-nav >> text=客户")
    page.click("[data-testid=record-table] >> text=苏州锦程服饰有限公司")
    page.wait_for_selector("[data-testid=timeline]")
    story = page.inner_text("[data-testid=timeline]")
    assert "上门送样，客户满意" in story  # the interaction
    assert "流程已启动" in story and "流程已完成" in story  # the process
    assert "任务已完成 · 准备报价" in story and "任务已完成 · 经理审批" in story
    assert "赵敏" in page.inner_text("[data-testid=contacts]")
    processes = page.inner_text("[data-testid=processes]")
    assert f"#{instance_id}" in processes and "已完成" in processes
    assert "没有待办任务" in page.inner_text("[data-testid=open-tasks]")
    screenshot(page, "customer-360-zh")
    # The process link leads to its page: the whole path done, nothing waiting.
    page.click(f"[data-testid=processes] >> text=#{instance_id}")
    page.wait_for_selector("#bpmn-diagram[data-rendered=true]")
    assert page.locator("g.djs-element.marker-completed[data-element-id=end_approved]").count() == 1
    assert page.locator("g.djs-element.marker-current").count() == 0
    screenshot(page, "instance-completed-zh")
    context.close()


def test_logging_an_interaction_from_the_customer_page(
    browser, live_server, company_world, screenshot
):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "wang.fang")
    page.goto(f"{live_server}/customers/{company_world['customer']}")
    page.click("[data-testid=log-interaction-open]")  # click 1
    page.select_option("#i-channel", "phone")
    page.click("[data-testid=interaction-submit]")  # nothing typed: told so, in place
    error = page.wait_for_selector("[data-field=summary] .field-error")
    assert "此项为必填项" in error.inner_text()
    assert page.input_value("#i-channel") == "phone"  # input kept
    page.fill("#i-summary", "电话确认春季面料交期：4月10日")
    page.click("[data-testid=interaction-submit]")  # click 2
    page.wait_for_selector("[data-testid=interaction-saved]")
    first = page.locator("[data-testid=timeline-item]").first
    assert "电话确认春季面料交期" in first.inner_text() and "电话" in first.inner_text()
    screenshot(page, "customer-log-interaction-zh")
    page.reload()  # it was saved, not only drawn
    assert "电话确认春季面料交期" in page.inner_text("[data-testid=timeline]")
    context.close()


def test_list_with_search_filter_and_export(
    browser, live_server, company_world, committed_factory, screenshot, tmp_path: Path
):
    with committed_factory() as session:
        sales = session.get(User, company_world["sales"])
        for name, grade in (("无锡华美家纺", "B"), ("常州天虹纺织", "A"), ("南通锦程家纺", "B")):
            create_record(
                session, actor_for(session, sales), "customers", {"name": name, "grade": grade}
            )
        session.commit()
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    ui_login(page, live_server, "li.qiang")  # a sales manager: has the export grant
    page.goto(f"{live_server}/customers")
    assert page.locator("[data-testid=record-row]").count() == 4
    screenshot(page, "customers-list-zh")
    page.fill("[data-testid=search]", "锦程")
    page.wait_for_function("document.querySelectorAll('[data-testid=record-row]').length === 2")
    page.select_option("[data-testid=filter-grade]", "B")
    page.wait_for_function("document.querySelectorAll('[data-testid=record-row]').length === 1")
    assert "南通锦程家纺" in page.inner_text("[data-testid=record-table]")
    assert "grade=B" in page.url and "q=" in page.url  # the filter stays in the address bar
    screenshot(page, "customers-list-filtered-zh")
    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    target = tmp_path / "customers.csv"
    download_info.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert "南通锦程家纺" in text
    assert "苏州锦程服饰有限公司" not in text and "无锡华美家纺" not in text
    context.close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = phone.new_page()
    ui_login(page, live_server, "wang.fang")
    page.goto(f"{live_server}/customers/{company_world['customer']}")
    page.wait_for_selector("[data-testid=profile]")
    screenshot(page, "customer-phone-zh")
    phone.close()


def test_instance_page_shows_the_diagram_with_the_current_task_highlighted(
    browser, live_server, company_world, committed_factory, screenshot
):
    with committed_factory() as session:
        instance = start_instance(
            session,
            session.get(User, company_world["sales"]),
            "quote_discount_approval",
            subject={"type": "customer", "id": company_world["customer"]},
        )
        session.commit()
        instance_id = instance.id
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "wang.fang")
    page.goto(f"{live_server}/instances/{instance_id}")
    page.wait_for_selector("#bpmn-diagram[data-rendered=true]")
    current = page.locator("g.djs-element.marker-current")
    assert current.count() == 1
    assert current.get_attribute("data-element-id") == "prepare_quote"
    assert page.locator("g.djs-element.marker-completed[data-element-id=start]").count() == 1
    assert "流程已启动" in page.inner_text("[data-testid=history]")
    # The starter may cancel (with a confirmation), not suspend.
    assert page.locator("[data-testid=op-suspend]").count() == 0
    screenshot(page, "instance-diagram-zh")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=op-cancel]")
    page.wait_for_selector(".flash-success")
    assert "已取消" in page.inner_text("[data-testid=instance-status]")
    assert page.locator("g.djs-element.marker-current").count() == 0
    context.close()
