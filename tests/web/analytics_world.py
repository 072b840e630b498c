"""Committed data for the analytics browser tests, made through the real REST API of the live
app: two salespeople in one office with their own customers, orders, receivables and
opportunities, a sales plan, service requests with defects and ratings, and a recompute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import business_today
from core.security import issue_token
from crm_domain.org import create_org_unit
from crm_domain.users import create_user
from tests.conftest import TEST_SECRET, ApiClient
from tests.web.conftest import PASSWORD


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


class World:
    def __init__(self, app, factory):
        with factory() as session:
            group = create_org_unit(session, "锦华纺织集团", "group")
            branch = create_org_unit(session, "华东分公司", "branch", group.id)
            office = create_org_unit(session, "苏州办事处", "office", branch.id)
            people = {
                "wang": create_user(
                    session, "wang.fang", PASSWORD, ["salesperson"], "王芳", org_unit_id=office.id
                ),
                "liu": create_user(
                    session, "liu.yang", PASSWORD, ["salesperson"], "刘洋", org_unit_id=office.id
                ),
                "admin": create_user(
                    session, "zhao.min", PASSWORD, ["admin"], "赵敏", org_unit_id=group.id
                ),
            }
            session.commit()
            self.user_ids = {name: user.id for name, user in people.items()}
        client = app.test_client()
        self.api = {
            name: ApiClient(client, issue_token(TEST_SECRET, uid, 3600)[0])
            for name, uid in self.user_ids.items()
        }
        self.customers: dict[str, int] = {}

    def customer(self, who: str, name: str, region: str) -> int:
        body = {"name": name, "region": region}
        self.customers[name] = ok(self.api[who].post("/api/v1/customers", json=body), 201)["id"]
        return self.customers[name]

    def order(self, who: str, customer_id: int, number: str, days_ago: int, total: int) -> int:
        on = (business_today() - timedelta(days=days_ago)).isoformat()
        line = {"description": "全棉府绸", "quantity": "1", "unit_price": str(total)}
        body = {"customer_id": customer_id, "order_no": number, "ordered_on": on, "lines": [line]}
        return ok(self.api[who].post("/api/v1/orders", json=body), 201)["id"]

    def receivable(self, who: str, order_id: int, days_overdue: int, amount: int) -> None:
        due = (business_today() - timedelta(days=days_overdue)).isoformat()
        body = {"order_id": order_id, "due_on": due, "amount": amount}
        ok(self.api[who].post("/api/v1/receivables", json=body), 201)

    def opportunity(self, who: str, customer_id: int, stage: str, amount: int) -> None:
        body = {"customer_id": customer_id, "title": f"{stage} {amount}", "stage": stage}
        body["amount"] = amount
        if stage == "lost":
            body["lost_reason"] = "价格"
        ok(self.api[who].post("/api/v1/opportunities", json=body), 201)


def build_world(app, factory) -> World:
    world = World(app, factory)
    jinhua = world.customer("wang", "苏州锦程服饰有限公司", "江苏 苏州")
    hengfeng = world.customer("wang", "无锡恒丰服饰", "江苏 无锡")
    meiya = world.customer("wang", "常州美亚制衣", "江苏 常州")
    silk = world.customer("liu", "杭州丝路家纺", "浙江 杭州")
    for number, days_ago, total in (
        ("SO-1", 400, 30000),
        ("SO-2", 200, 42000),
        ("SO-3", 20, 56000),
    ):
        last = world.order("wang", jinhua, number, days_ago, total)
    world.order("wang", hengfeng, "SO-4", 300, 8000)
    world.order("wang", meiya, "SO-5", 90, 15000)
    world.order("wang", meiya, "SO-6", 10, 12000)
    other = world.order("liu", silk, "SO-7", 15, 99000)
    world.receivable("wang", last, 100, 12000)
    world.receivable("wang", last, -20, 20000)
    world.receivable("liu", other, 45, 50000)
    for stage, amount in (
        ("prospecting", 10000),
        ("qualification", 20000),
        ("proposal", 30000),
        ("negotiation", 40000),
        ("won", 50000),
        ("lost", 15000),
    ):
        world.opportunity("wang", jinhua, stage, amount)
    world.opportunity("liu", silk, "won", 80000)
    admin = world.api["admin"]
    year = str(business_today().year)
    for user in ("wang", "liu"):
        body = {"user_id": world.user_ids[user], "period": year, "target_amount": 150000}
        ok(admin.post("/api/v1/sales-plans", json=body), 201)
    product = ok(
        admin.post(
            "/api/v1/products",
            json={
                "sku": "P-100",
                "name": "全棉府绸",
                "brand": "锦华",
                "series": "府绸",
                "price": "10",
            },
        ),
        201,
    )["id"]
    for _ in range(3):
        ok(admin.post("/api/v1/defects", json={"product_id": product, "description": "色差"}), 201)
    now = datetime.now(UTC)
    for subject, due_hours, rating in (("色差", 48, 5), ("缩水", -2, 3), ("断纱", -1, None)):
        body = {
            "customer_id": jinhua,
            "subject": subject,
            "sla_due_at": (now + timedelta(hours=due_hours)).isoformat(),
            "priority": "high",
        }
        request = ok(admin.post("/api/v1/service-requests", json=body), 201)
        if rating:
            change = {"status": "resolved", "resolution": "已换货", "satisfaction": rating}
            change["version"] = request["version"]
            ok(admin.patch(f"/api/v1/service-requests/{request['id']}", json=change))
    ok(
        admin.patch(
            "/api/v1/analytics/settings",
            json={"marketing_cost": 0, "service_cost": 0, "acquisition_cost": 0},
        )
    )
    job = ok(admin.post("/api/v1/analytics/recompute", json={"wait": True}))
    assert job["status"] == "succeeded", job
    return world
