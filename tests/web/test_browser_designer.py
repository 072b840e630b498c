"""The designer console in headless chromium: a designer adds a step to the quote approval in
the bpmn-js modeler, checks and deploys it as version 2; a new instance takes the new step
while a version-1 instance finishes the old way. A broken upload shows its validation report.
Screenshots go to var/screenshots/ (designer-*.png).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_domain.users import User, create_user
from engine.instances import start_instance
from engine.models import HumanTask, InstanceEvent, ProcessInstance
from engine.tasks import claim_task, complete_task
from tests.support import designer as quote
from tests.web.conftest import PASSWORD, ui_login

LAPTOP = {"width": 1366, "height": 900}
pytestmark = pytest.mark.slow

# What a designer does with the mouse, through bpmn-js's modeling API: make room after the
# start event, drop a user task onto the first flow (bpmn-js splits the flow around it) and
# name it. It lands in the salesperson lane, so salespeople get the step.
ADD_STEP = """() => {
  const modeler = window.weftModeler;
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  const later = registry.filter(e => !e.waypoints && e.x >= 250 &&
    e.businessObject.$instanceOf('bpmn:FlowNode'));
  modeling.moveElements(later, { x: 150, y: 0 });
  const task = modeler.get('elementFactory').createShape({ type: 'bpmn:UserTask' });
  modeling.createShape(task, { x: 310, y: 160 }, registry.get('flow_start_prepare'));
  modeling.updateProperties(task, { id: 'check_stock', name: '核对库存 Check stock' });
  window.weftFit();
  return task.id;
}"""


def _start(committed_factory, user_id: int) -> int:
    with committed_factory() as session:
        instance = start_instance(session, session.get(User, user_id), quote.KEY)
        session.commit()
        return instance.id


def _open_steps(committed_factory, instance_id: int) -> list[tuple[str, str | None]]:
    with committed_factory() as session:
        return list(
            session.execute(
                select(HumanTask.bpmn_id, HumanTask.lane).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
        )


def _work(committed_factory, user_id: int, instance_id: int, data: dict) -> None:
    """The salesperson claims and completes the instance's open task."""
    with committed_factory() as session:
        user = session.get(User, user_id)
        task_id = session.scalar(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open"
            )
        )
        claim_task(session, user, task_id)
        complete_task(session, user, task_id, data)
        session.commit()


QUOTE_AT_LIST_PRICE = {
    "customer_name": "苏州锦程服饰有限公司",
    "product": "精梳棉面料",
    "list_price": "100",
    "quoted_price": "100",
}


@pytest.fixture
def designer_id(committed_factory, company_world) -> int:
    with committed_factory() as session:
        user = create_user(session, "zhao.min", PASSWORD, ["process_designer"], "赵敏")
        session.commit()
        return user.id


def test_designer_adds_a_step_in_the_modeler_and_deploys_version_2(
    browser, live_server, company_world, committed_factory, designer_id, screenshot
):
    old_instance = _start(committed_factory, company_world["sales"])
    assert _open_steps(committed_factory, old_instance) == [("prepare_quote", "salesperson")]

    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "zhao.min")
    page.goto(f"{live_server}/designer")
    assert "v1" in page.inner_text(
        f"[data-testid=process-{quote.KEY}] [data-testid=current-version]"
    )
    page.click(f"[data-testid=process-{quote.KEY}] [data-testid=edit-1]")
    page.wait_for_selector("#bpmn-modeler[data-rendered=true]")

    assert page.evaluate(ADD_STEP) == "check_stock"
    page.click("[data-testid=modeler-check]")
    page.wait_for_selector("#modeler-result [data-testid=validation-ok]")
    assert "2" in page.inner_text("#modeler-result")
    screenshot(page, "designer-modeler-zh")

    page.click("[data-testid=modeler-deploy]")
    page.wait_for_url(f"**/designer/processes/{quote.KEY}")
    page.wait_for_selector("#bpmn-viewer[data-rendered=true]")
    assert "v2" in page.inner_text(".flash-success")
    assert page.locator("[data-testid=version-2] .tag-current").count() == 1
    screenshot(page, "designer-process-zh")
    page.goto(f"{live_server}/designer")
    assert "v2" in page.inner_text(
        f"[data-testid=process-{quote.KEY}] [data-testid=current-version]"
    )
    screenshot(page, "designer-catalogue-zh")

    # A new instance starts on version 2 and waits in the new step, in the salesperson lane.
    new_instance = _start(committed_factory, company_world["sales"])
    assert _open_steps(committed_factory, new_instance) == [("check_stock", "salesperson")]

    # The salesperson sees both: the new step for the new quote, the old one for the old.
    sales = browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
    ui_login(sales, live_server, "wang.fang")
    sales.click("[data-testid=tab-available]")
    sales.wait_for_selector("[data-testid=task-row]")
    listed = sales.inner_text("[data-testid=task-list]")
    assert "核对库存" in listed and "准备报价" in listed
    screenshot(sales, "designer-inbox-new-step-zh")

    # Version 1 finishes the old way; version 2 goes through the new step, then on as before.
    _work(committed_factory, company_world["sales"], old_instance, QUOTE_AT_LIST_PRICE)
    _work(committed_factory, company_world["sales"], new_instance, {})
    assert _open_steps(committed_factory, new_instance) == [("prepare_quote", "salesperson")]
    _work(committed_factory, company_world["sales"], new_instance, QUOTE_AT_LIST_PRICE)
    with committed_factory() as session:
        old, new = (
            session.get(ProcessInstance, old_instance),
            session.get(ProcessInstance, new_instance),
        )
        assert (old.definition_version, old.status) == (1, "completed")
        assert (new.definition_version, new.status) == (2, "completed")
        steps = {
            instance_id: set(
                session.scalars(
                    select(InstanceEvent.task_name).where(
                        InstanceEvent.instance_id == instance_id,
                        InstanceEvent.kind == "task_completed",
                    )
                )
            )
            for instance_id in (old_instance, new_instance)
        }
    assert not any("Check stock" in (name or "") for name in steps[old_instance])
    assert any("Check stock" in (name or "") for name in steps[new_instance])

    # The difference between the versions, marked on the diagram.
    page.goto(f"{live_server}/designer/processes/{quote.KEY}/diff?from=1&to=2")
    page.wait_for_selector("[data-testid=diff-new][data-rendered=true]")
    assert "check_stock" in page.inner_text("[data-testid=diff-added]")
    assert page.locator("[data-testid=diff-new] .diff-added").count() >= 2
    screenshot(page, "designer-diff-zh")

    page.goto(f"{live_server}/designer/instances?process={quote.KEY}")
    assert page.locator(f"[data-testid=instance-{new_instance}]").count() == 1
    screenshot(page, "designer-instances-zh")
    page.goto(f"{live_server}/designer/processes/{quote.KEY}/forms/prepare_quote")
    assert page.input_value("input[name=field-0-name]") == "customer_name"
    screenshot(page, "designer-form-editor-zh")
    context.close()


def test_a_broken_upload_shows_its_validation_report(
    browser, live_server, company_world, designer_id, screenshot
):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "zhao.min")
    page.goto(f"{live_server}/designer/upload")
    broken = quote.version_1_xml().replace('targetRef="prepare_quote"', 'targetRef="nowhere"', 1)
    page.set_input_files(
        "[data-testid=upload-files]",
        [{"name": quote.BPMN, "mimeType": "application/xml", "buffer": broken.encode()}],
    )
    page.click("[data-testid=check-upload]")
    page.wait_for_selector("[data-testid=validation-report]")
    row = page.inner_text("[data-testid=problem]")
    assert quote.BPMN in row and "29" in row and "start" in row
    screenshot(page, "designer-upload-report-zh")
    page.goto(f"{live_server}/designer")
    assert "v1" in page.inner_text(
        f"[data-testid=process-{quote.KEY}] [data-testid=current-version]"
    )
    context.close()
