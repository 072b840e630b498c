"""Walking the shipped sales process through the REST API: people, deployment, steps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from core import clock
from crm_domain.org import create_org_unit
from engine.definitions import deploy_files
from engine.shipped import shipped_bundles
from engine.timers import fire_due_timers
from tests.conftest import PROCESSES
from tests.processes.approval_support import complete, instance, open_task

QUALIFY = "评估线索 Qualify the lead"
PREPARE_QUOTE = "准备报价 Prepare the quote"
SIGN_CONTRACT = "签订合同 Sign the contract"
PLACE_ORDER = "下销售订单 Place the sales order"
CHASE = "逾期催收 Chase the overdue payment"
MANAGER_APPROVAL = "销售经理审批 Sales manager approval"
REVISE_APPROVAL = "修改或撤回申请 Revise or withdraw"
UPLOAD_LIMIT = 5_000_000


def deploy_shipped_sales(session) -> None:
    """What `weft db upgrade` does for the approval and sales folders (approval first: the
    sales process calls it), leaving the other shipped folders to their own tests."""
    bundles = shipped_bundles(PROCESSES)
    for folder in ("approval", "sales"):
        deploy_files(session, bundles[folder], None, UPLOAD_LIMIT)
    session.commit()


PRODUCT = {
    "sku": "WP-18",
    "name": "E1级刨花板 18mm",
    "brand": "锦华",
    "series": "E1",
    "unit": "sheet",
    "price": "100",
}


def created(api, collection: str, data: dict) -> dict:
    response = api.post(f"/api/v1/{collection}", json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


class SalesTeam:
    """The people who work a sale (REST clients), its customer and product, and the steps.

    `manager` starts the leads (the commission needs a sales manager's rights); `sales` owns
    the customer, so the lead's tasks are theirs.
    """

    def __init__(
        self, session_factory, manager, sales, customer: dict, product: dict, executive=None
    ):
        self.session_factory = session_factory
        self.manager = manager
        self.sales = sales
        self.executive = executive
        self.viewer = manager  # who reads instances: their starter
        self.customer = customer
        self.product = product

    # --- steps ------------------------------------------------------------------------

    def start_lead(self, **data) -> dict:
        body = {"customer_id": self.customer["id"], "lead_source": "展会 trade fair", **data}
        response = self.manager.post(
            "/api/v1/process-instances", json={"process_key": "sales", "data": body}
        )
        assert response.status_code == 201, response.get_json()
        return self.instance(response.get_json()["id"])

    def instance(self, instance_id: int) -> dict:
        return instance(self.viewer, instance_id)

    def task(self, api, instance_id: int, name: str, scope: str = "mine") -> dict:
        task = open_task(api, instance_id, scope=scope)
        assert task["name"] == name, task
        return task

    def do(self, api, instance_id: int, name: str, scope: str = "mine", **data) -> dict:
        complete(api, self.task(api, instance_id, name, scope), **data)
        body = self.instance(instance_id)
        assert not body["incidents"], body["incidents"]
        return body

    def qualify(self, instance_id: int, **data) -> dict:
        return self.do(
            self.sales,
            instance_id,
            QUALIFY,
            qualification="qualified",
            expected_value=50_000,
            **data,
        )

    def quote(self, instance_id: int, quantity: int = 100, discount: float = 0, **data) -> dict:
        return self.do(
            self.sales,
            instance_id,
            PREPARE_QUOTE,
            product_1=self.product["id"],
            quantity_1=quantity,
            discount_percent=discount,
            **data,
        )

    def sign_and_order(self, instance_id: int, due_on: str) -> dict:
        self.do(self.sales, instance_id, SIGN_CONTRACT, signed_on="2026-12-01")
        return self.do(self.sales, instance_id, PLACE_ORDER, payment_due_on=due_on)

    def close_the_sale(self, instance_id: int) -> dict:
        """From *Prepare the quote* to the end: a quote within the automatic discount, the
        contract, the order, and the payment in full before it is due."""
        self.quote(instance_id, quantity=10, discount=0)
        body = self.sign_and_order(instance_id, "2027-03-31")
        self.pay(body["data"]["order_no"], body["data"]["order"]["total"], "2027-03-30")
        return self.instance(instance_id)

    def pay(self, order_no: str, amount, paid_on: str, api=None) -> list[int]:
        response = (api or self.manager).post(
            "/api/v1/messages",
            json={
                "name": "payment_received",
                "correlation": {"order_no": order_no},
                "payload": {"amount": str(amount), "paid_on": paid_on, "reference": "BANK-1"},
            },
        )
        assert response.status_code == 202, response.get_json()
        return response.get_json()["delivered_to"]

    def tick(self, at: str) -> list[int]:
        """`weft tick --now AT`: fire every timer due by then (the clock travels along)."""
        now = clock.parse_instant(at)
        with clock.frozen_at(now):
            return fire_due_timers(self.session_factory, now).fired

    def record(self, collection: str, record_id: int, api=None) -> dict:
        response = (api or self.manager).get(f"/api/v1/{collection}/{record_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def notifications(self, api) -> list[str]:
        body = api.get("/api/v1/notifications").get_json()
        return [item["title"] for item in body["items"]]


def sales_team(session, make_user, api_as, session_factory) -> SalesTeam:
    """The shipped processes deployed and a sales team ready (each test file's `team` fixture):
    a branch with its sales manager and executive, an office below it with a salesperson."""
    deploy_shipped_sales(session)
    branch = create_org_unit(session, "华东分公司", "branch")
    office = create_org_unit(session, "苏州办事处", "office", branch.id)
    session.commit()
    manager = api_as(user=make_user("sales_manager", org_unit_id=branch.id))
    sales = api_as(user=make_user("salesperson", org_unit_id=office.id))
    executive = api_as(user=make_user("executive", org_unit_id=branch.id))
    product = created(manager, "products", PRODUCT)
    customer = created(sales, "customers", {"name": "苏州锦华家具有限公司", "grade": "B"})
    return SalesTeam(session_factory, manager, sales, customer, product, executive)


def at(text: str) -> datetime:
    return clock.parse_instant(text)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
