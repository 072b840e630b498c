"""The designer console in headless chromium, on the shipped sales process: a designer opens
version 1 in the bpmn-js modeler, adds a stock check after the lead is qualified, checks it and
deploys it as version 2. A sale started on version 1 finishes the old way; a new sale meets the
new step in the salesperson's inbox and goes on as before. A broken upload shows its validation
report. Screenshots go to var/screenshots/ (designer-*.png).
"""

from __future__ import annotations

import pytest

from core.security import issue_token
from crm_domain.users import create_user
from tests.conftest import TEST_SECRET, ApiClient
from tests.processes.sales_support import (
    PREPARE_QUOTE,
    PRODUCT,
    QUALIFY,
    SalesTeam,
    created,
    deploy_shipped_sales,
)
from tests.support import designer as quote
from tests.web.conftest import PASSWORD, ui_login

LAPTOP = {"width": 1366, "height": 900}
CHECK_STOCK = "核对库存 Check stock"
pytestmark = pytest.mark.slow

# What a designer does with the mouse, through bpmn-js's own tools: the space tool opens a gap
# right of the "Qualified?" gateway (moving everything after it, widening the pool and its
# lanes), a user task dropped on the "qualified" flow splits it, and gets its name. It lands
# in the salesperson lane, so salespeople get the step. Returns where it ended up.
ADD_STEP = """() => {
  const modeler = window.weftModeler;
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  const spaceTool = modeler.get('spaceTool');
  const root = modeler.get('canvas').getRootElement();
  const gap = { x: 150, y: 0 }, from = 480;
  const room = spaceTool.calculateAdjustments(registry.filter(e => e !== root), 'x', gap.x, from);
  spaceTool.makeSpace(room.movingShapes, room.resizingShapes, gap, 'e', from);
  const flow = registry.get('f_qualified');
  const [a, b] = [flow.waypoints[0], flow.waypoints[flow.waypoints.length - 1]];
  const task = modeler.get('elementFactory').createShape({ type: 'bpmn:UserTask' });
  modeling.createShape(task, { x: (a.x + b.x) / 2, y: a.y }, flow);
  modeling.updateProperties(task, { id: 'check_stock', name: '核对库存 Check stock' });
  window.weftFit();
  const lanes = registry.filter(e => e.type === 'bpmn:Lane' &&
    e.businessObject.flowNodeRef.includes(task.businessObject));
  return {
    id: task.id,
    lanes: lanes.map(l => l.businessObject.name),
    from: task.incoming.map(c => c.source.id),
    to: task.outgoing.map(c => c.target.id),
  };
}"""


def _api(app, user_id: int) -> ApiClient:
    token, _ = issue_token(TEST_SECRET, user_id, 3600)
    return ApiClient(app.test_client(), token)


@pytest.fixture
def team(live_app, committed_factory, company_world) -> SalesTeam:
    """The shipped sales process on the company's people: the manager 李强 starts the leads
    of 王芳's customer; the REST calls go to the live server's app (real commits)."""
    with committed_factory() as session:
        deploy_shipped_sales(session)
    manager = _api(live_app, company_world["manager"])
    sales = _api(live_app, company_world["sales"])
    product = created(manager, "products", PRODUCT)
    customer = sales.get(f"/api/v1/customers/{company_world['customer']}").get_json()
    return SalesTeam(committed_factory, manager, sales, customer, product)


@pytest.fixture
def designer_id(committed_factory, company_world) -> int:
    with committed_factory() as session:
        user = create_user(session, "zhao.min", PASSWORD, ["process_designer"], "赵敏")
        session.commit()
        return user.id


def _task_names(body: dict) -> list[str]:
    return [e["task_name"] for e in body["events"] if e["kind"] == "task_completed"]


def test_designer_adds_a_step_to_the_sales_process_and_deploys_version_2(
    browser, live_server, team, designer_id, screenshot
):
    old = team.start_lead()
    assert old["version"] == 1
    assert team.task(team.sales, old["id"], QUALIFY)

    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    ui_login(page, live_server, "zhao.min")
    page.goto(f"{live_server}/designer")
    sales_entry = "[data-testid=process-sales]"
    assert page.inner_text(f"{sales_entry} [data-testid=current-version]") == "v1"
    page.click(f"{sales_entry} [data-testid=edit-1]")
    page.wait_for_selector("#bpmn-modeler[data-rendered=true]")

    assert page.evaluate(ADD_STEP) == {
        "id": "check_stock",
        "lanes": ["salesperson"],
        "from": ["qualified_gateway"],
        "to": ["create_opportunity"],
    }
    page.click("[data-testid=modeler-check]")
    page.wait_for_selector("#modeler-result [data-testid=validation-ok]")
    assert "2" in page.inner_text("#modeler-result")
    screenshot(page, "designer-sales-modeler-zh")

    page.click("[data-testid=modeler-deploy]")
    page.wait_for_url(f"{live_server}/designer/processes/sales")
    page.wait_for_selector("#bpmn-viewer[data-rendered=true]")
    assert "v2" in page.inner_text(".flash-success")
    assert page.locator("[data-testid=version-2] .tag-current").count() == 1
    screenshot(page, "designer-sales-process-zh")
    page.goto(f"{live_server}/designer")
    assert page.inner_text(f"{sales_entry} [data-testid=current-version]") == "v2"
    screenshot(page, "designer-sales-catalogue-zh")

    # A new sale starts on version 2; both are qualified by their salesperson.
    new = team.start_lead()
    assert new["version"] == 2
    for instance_id in (old["id"], new["id"]):
        team.qualify(instance_id)
    # Version 1 goes straight on to the opportunity and the quote.
    assert team.task(team.sales, old["id"], PREPARE_QUOTE)
    assert team.instance(old["id"])["data"]["opportunity"]["id"]
    # Version 2 waits in the new step, for any salesperson, before the opportunity exists.
    check = team.task(team.sales, new["id"], CHECK_STOCK, scope="available")
    assert check["candidate_roles"] == ["salesperson"]
    assert "opportunity" not in team.instance(new["id"])["data"]

    # 王芳 finds it in her inbox, takes it and completes it; the sale goes on to the quote.
    sales = browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
    ui_login(sales, live_server, "wang.fang")
    sales.click("[data-testid=tab-available]")
    row = sales.locator("[data-testid=task-row]", has_text="核对库存")
    assert f"#{new['id']}" in row.inner_text()
    screenshot(sales, "designer-sales-inbox-new-step-zh")
    row.locator("[data-testid=claim]").click()
    sales.wait_for_selector("[data-testid=task-form]")
    assert "v2" in sales.inner_text("[data-testid=instance-card]")
    sales.click("[data-testid=complete]")
    sales.wait_for_selector(".flash-success")
    sales.click("[data-testid=tab-mine]")
    mine = sales.inner_text("[data-testid=task-list]")
    assert mine.count("准备报价") == 2 and "核对库存" not in mine
    screenshot(sales, "designer-sales-inbox-after-zh")
    sales.context.close()
    assert team.task(team.sales, new["id"], PREPARE_QUOTE)
    assert team.instance(new["id"])["data"]["opportunity"]["id"]

    # Both sales close, each on its own version.
    for instance_id, version in ((old["id"], 1), (new["id"], 2)):
        done = team.close_the_sale(instance_id)
        assert (done["version"], done["status"]) == (version, "completed"), done["incidents"]
        assert _task_names(done)[0] == QUALIFY
    assert CHECK_STOCK not in _task_names(team.instance(old["id"]))
    assert _task_names(team.instance(new["id"]))[:3] == [QUALIFY, CHECK_STOCK, PREPARE_QUOTE]

    # The difference between the versions, marked on the diagram.
    page.goto(f"{live_server}/designer/processes/sales/diff?from=1&to=2")
    page.wait_for_selector("[data-testid=diff-new][data-rendered=true]")
    assert "check_stock" in page.inner_text("[data-testid=diff-added]")
    changed = page.inner_text("[data-testid=diff-changed]")
    assert "f_qualified" in changed and "create_opportunity" in changed
    # The shapes the space tool moved are not changes (nor the sales manager's lane).
    for untouched in ("reminder_due", "paid_while_chasing", "qualify_lead", "lane_sales_manager"):
        assert untouched not in changed
    assert page.locator("[data-testid=diff-new] .diff-added").count() >= 2
    screenshot(page, "designer-sales-diff-zh")

    page.goto(f"{live_server}/designer/instances?process=sales")
    for instance_id, version in ((old["id"], "v1"), (new["id"], "v2")):
        assert version in page.inner_text(f"[data-testid=instance-{instance_id}]")
    screenshot(page, "designer-sales-instances-zh")
    page.goto(f"{live_server}/designer/processes/sales/forms/sales_quote")
    assert page.input_value("input[name=field-0-name]") == "product_1"
    screenshot(page, "designer-sales-form-editor-zh")
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
