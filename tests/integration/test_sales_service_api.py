"""Sales, service and marketing records through the REST API: validation, computed money,
receivables and payments, data scopes, concurrency and campaign targets."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from core import clock
from core.config import Settings
from core.db import unit_of_work
from core.security import issue_token
from crm_domain.users import create_user
from tests.conftest import TEST_SECRET, ApiClient
from tests.support.http import created, errors_of
from web.app import create_app

NOON_20_NOV = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in China


def customer(api, name="苏州锦华纺织有限公司", **fields) -> dict:
    return created(api.post("/api/v1/customers", json={"name": name, **fields}))


def product(api, sku="JH-TW-001", price="12.50", name="涤纶塔夫绸") -> dict:
    body = {"sku": sku, "name": name, "brand": "锦华", "series": "塔夫绸", "price": price}
    return created(api.post("/api/v1/products", json=body))


def order(api, customer_id, order_no="SO-2026-001", total="10000", **fields) -> dict:
    lines = [{"description": "全棉府绸", "quantity": "1", "unit_price": total}]
    body = {"customer_id": customer_id, "order_no": order_no, "lines": lines, **fields}
    return created(api.post("/api/v1/orders", json=body))


# --- validation ---------------------------------------------------------------------------


def test_an_opportunity_is_validated_field_by_field_and_follows_its_stage(company):
    sales = company.sales_a1
    buyer = customer(sales)

    bad = sales.post(
        "/api/v1/opportunities",
        json={"title": "", "stage": "dreaming", "probability": 150, "amount": -1},
    )
    assert {"customer_id", "title", "stage", "probability", "amount"} <= set(errors_of(bad))

    opportunity = created(
        sales.post(
            "/api/v1/opportunities",
            json={"customer_id": buyer["id"], "title": "2027春夏面料", "amount": 800000},
        )
    )
    assert (opportunity["stage"], opportunity["probability"]) == ("prospecting", 10)
    assert opportunity["owner_id"] == sales.user.id  # it follows its customer
    url = f"/api/v1/opportunities/{opportunity['id']}"

    lost = sales.patch(url, json={"stage": "lost", "version": 1})
    assert "lost_reason" in errors_of(lost)
    won = sales.patch(url, json={"stage": "won", "version": 1})
    assert won.status_code == 200 and won.get_json()["probability"] == 100


def test_quote_lines_are_priced_with_half_up_rounding(company):
    sales, fabric = company.sales_a1, product(company.manager_a)
    buyer = customer(sales)

    quote = created(
        sales.post(
            "/api/v1/quotes",
            json={
                "customer_id": buyer["id"],
                "quote_no": "Q-2026-0001",
                "discount_percent": "2.5",
                "lines": [
                    {"product_id": fabric["id"], "quantity": "4"},  # catalogue price 12.50
                    {"description": "加急费", "quantity": 1, "unit_price": "0.125"},
                    {
                        "description": "样品",
                        "quantity": 3,
                        "unit_price": 2.5,
                        "discount_percent": 10,
                    },
                    {"description": "运费", "quantity": 2, "unit_price": "21.66"},
                ],
            },
        )
    )

    assert [line["amount"] for line in quote["lines"]] == [50.0, 0.13, 6.75, 43.32]
    assert quote["lines"][0]["description"] == "涤纶塔夫绸"
    assert quote["lines"][0]["unit_price"] == 12.5
    # 100.20 × 2.5 % = 2.505, which rounds half up to 2.51 (banker's rounding says 2.50).
    assert (quote["subtotal"], quote["discount_amount"], quote["total"]) == (100.2, 2.51, 97.69)
    assert quote["currency"] == "CNY" and quote["status"] == "draft"

    # A PATCH that sends lines replaces them all, and the totals follow.
    url = f"/api/v1/quotes/{quote['id']}"
    changed = sales.patch(
        url,
        json={"version": 1, "lines": [{"description": "全棉府绸", "quantity": 2, "unit_price": 5}]},
    )
    assert changed.status_code == 200, changed.get_json()
    assert [line["amount"] for line in changed.get_json()["lines"]] == [10.0]
    assert changed.get_json()["total"] == 9.75
    history = sales.get(f"{url}/history").get_json()["items"]
    assert {"lines", "total"} <= set(history[-1]["changes"])

    # A PATCH that leaves the lines out keeps them (and the totals) as they were.
    kept = sales.patch(url, json={"version": 2, "valid_until": "2027-03-31"})
    assert kept.status_code == 200, kept.get_json()
    assert [line["amount"] for line in kept.get_json()["lines"]] == [10.0]
    assert kept.get_json()["total"] == 9.75


def test_bad_lines_are_reported_by_their_path(company):
    sales = company.sales_a1
    buyer = customer(sales)

    bad = sales.post(
        "/api/v1/quotes",
        json={
            "customer_id": buyer["id"],
            "quote_no": "Q-1",
            "lines": [
                {"product_id": 999_999, "quantity": 1},
                {"description": "x", "quantity": 0, "unit_price": 1},
                {"description": "x", "quantity": 1, "unit_price": "NaN", "colour": "red"},
                "not a line",
            ],
        },
    )

    details = errors_of(bad)
    assert {"lines.1.quantity", "lines.2.unit_price", "lines.2.colour", "lines.3"} <= set(details)
    missing = sales.post(
        "/api/v1/quotes",
        json={
            "customer_id": buyer["id"],
            "quote_no": "Q-1",
            "lines": [{"quantity": 1}],
            "opportunity_id": 404,
        },
    )
    details = errors_of(missing)
    assert {"lines.0.description", "lines.0.unit_price", "opportunity_id"} <= set(details)
    unknown = sales.post(
        "/api/v1/quotes",
        json={
            "customer_id": buyer["id"],
            "quote_no": "Q-1",
            "lines": [{"product_id": 9, "quantity": 1}],
        },
    )
    assert errors_of(unknown) == {"lines.0.product_id": ["No such record that you can see."]}
    assert sales.get("/api/v1/quotes").get_json()["total"] == 0


def test_numbers_are_unique_and_dates_in_order(company):
    sales = company.sales_a1
    buyer = customer(sales)
    contract = {"customer_id": buyer["id"], "contract_no": "HT-2026-01", "title": "年度供货合同"}

    backwards = sales.post(
        "/api/v1/contracts", json={**contract, "starts_on": "2027-01-01", "ends_on": "2026-12-31"}
    )
    assert "ends_on" in errors_of(backwards)
    first = created(
        sales.post(
            "/api/v1/contracts",
            json={**contract, "starts_on": "2027-01-01", "ends_on": "2027-12-31", "value": 1e6},
        )
    )
    again = sales.post("/api/v1/contracts", json=contract)
    assert errors_of(again)["contract_no"] == ["Already used by another record."]
    # A PATCH is checked against the stored dates too.
    early_end = sales.patch(
        f"/api/v1/contracts/{first['id']}", json={"ends_on": "2026-06-30", "version": 1}
    )
    assert "ends_on" in errors_of(early_end)
    itself = sales.patch(
        f"/api/v1/contracts/{first['id']}", json={"renewal_of_id": first["id"], "version": 1}
    )
    assert "renewal_of_id" in errors_of(itself)
    assert order(sales, buyer["id"])["order_no"] == "SO-2026-001"
    assert "order_no" in errors_of(
        sales.post("/api/v1/orders", json={"customer_id": buyer["id"], "order_no": "SO-2026-001"})
    )


def test_foreign_ids_must_exist_and_be_yours_to_see(company):
    mine, theirs = customer(company.sales_a1), customer(company.sales_b, name="广州南方服饰")
    their_contract = created(
        company.sales_b.post(
            "/api/v1/contracts",
            json={"customer_id": theirs["id"], "contract_no": "HT-B-1", "title": "合同"},
        )
    )

    sales, agent = company.sales_a1, company.service_a1
    cases = [
        (sales, "orders", {"customer_id": theirs["id"], "order_no": "SO-X"}, "customer_id"),
        (
            sales,
            "orders",
            {"customer_id": mine["id"], "order_no": "SO-X", "contract_id": their_contract["id"]},
            "contract_id",
        ),
        (
            sales,
            "orders",
            {"customer_id": mine["id"], "order_no": "SO-X", "quote_id": 2**40},
            "quote_id",
        ),
        (sales, "opportunities", {"customer_id": 987_654, "title": "x"}, "customer_id"),
        (sales, "payments", {"order_id": 424_242, "amount": 1}, "order_id"),
        (
            agent,
            "service-requests",
            {"customer_id": mine["id"], "subject": "x", "product_id": 5},
            "product_id",
        ),
        (
            agent,
            "service-requests",
            {"customer_id": mine["id"], "subject": "x", "contract_id": their_contract["id"]},
            "contract_id",
        ),
    ]
    for api, collection, body, field in cases:
        response = api.post(f"/api/v1/{collection}", json=body)
        assert field in errors_of(response), (collection, body)


# --- receivables and payments ---------------------------------------------------------------


def receivable(api, order_id, due_on, amount) -> dict:
    body = {"order_id": order_id, "due_on": due_on, "amount": amount}
    return created(api.post("/api/v1/receivables", json=body))


def test_payments_settle_receivables_and_the_clock_makes_them_overdue(company):
    sales, manager = company.sales_a1, company.manager_a
    buyer = customer(sales)
    sold = order(sales, buyer["id"], total="10000")

    with clock.frozen_at(NOON_20_NOV):
        first = receivable(sales, sold["id"], "2026-12-01", "4000")
        second = receivable(sales, sold["id"], "2027-01-15", "6000")
        assert (first["instalment"], second["instalment"]) == (1, 2)
        assert (first["status"], first["customer_id"]) == ("open", buyer["id"])
        too_much = sales.post(
            "/api/v1/receivables",
            json={"order_id": sold["id"], "due_on": "2027-02-01", "amount": 1},
        )
        assert "amount" in errors_of(too_much)  # the instalments would exceed the order total

        part = created(
            sales.post(
                "/api/v1/payments",
                json={"receivable_id": first["id"], "amount": "1500", "method": "bank"},
            )
        )
        assert (part["order_id"], part["customer_id"]) == (sold["id"], buyer["id"])
        now_first = sales.get(f"/api/v1/receivables/{first['id']}").get_json()
        assert (now_first["paid_amount"], now_first["status"]) == (1500.0, "partially_paid")
        assert now_first["version"] == 2

        # Paid against the order: the earliest open instalment first, the rest to the next.
        spread = created(
            sales.post(
                "/api/v1/payments",
                json={"order_id": sold["id"], "amount": "5000", "method": "acceptance_bill"},
            )
        )
        assert spread["allocations"] == [
            {"receivable_id": first["id"], "amount": 2500.0},
            {"receivable_id": second["id"], "amount": 2500.0},
        ]
        statuses = {
            item["id"]: (item["paid_amount"], item["status"])
            for item in sales.get(f"/api/v1/receivables?order_id={sold['id']}").get_json()["items"]
        }
        assert statuses == {first["id"]: (4000.0, "paid"), second["id"]: (2500.0, "partially_paid")}

        overpaid = sales.post("/api/v1/payments", json={"order_id": sold["id"], "amount": 3500.01})
        assert "amount" in errors_of(overpaid)
        no_target = sales.post("/api/v1/payments", json={"amount": 10})
        assert "receivable_id" in errors_of(no_target)
        cheque = sales.post("/api/v1/payments", json={"order_id": sold["id"], "method": "cheque"})
        assert {"amount", "method"} <= set(errors_of(cheque))
        fixed = sales.patch(
            f"/api/v1/payments/{part['id']}", json={"amount": 1, "version": part["version"]}
        )
        assert "amount" in errors_of(fixed)  # a recorded amount cannot change

    with clock.frozen_at(datetime(2027, 1, 20, 4, 0, tzinfo=UTC)):
        overdue = sales.get("/api/v1/receivables?status=overdue").get_json()
        assert [item["id"] for item in overdue["items"]] == [second["id"]]
        by_status = sales.get("/api/v1/receivables?sort=status").get_json()["items"]
        assert [item["status"] for item in by_status] == ["overdue", "paid"]
        assert sales.get(f"/api/v1/receivables/{first['id']}").get_json()["status"] == "paid"

        # Deleting a payment takes its money back off the receivables it settled.
        assert sales.delete(f"/api/v1/payments/{spread['id']}").status_code == 403
        assert manager.delete(f"/api/v1/payments/{spread['id']}").status_code == 204
        back = {
            item["id"]: (item["paid_amount"], item["status"])
            for item in sales.get(f"/api/v1/receivables?order_id={sold['id']}").get_json()["items"]
        }
        assert back == {first["id"]: (1500.0, "overdue"), second["id"]: (0.0, "overdue")}
        assert manager.delete(f"/api/v1/receivables/{first['id']}").status_code == 409


def test_payments_at_the_same_moment_never_overpay(committed_factory, database_url, tmp_path):
    """Real threads and commits: six people record 1000 each against a 4000 instalment."""
    with unit_of_work(committed_factory) as session:
        clerks = [create_user(session, f"clerk{i}", "password-123", ["admin"]) for i in range(6)]
        tokens = [issue_token(TEST_SECRET, clerk.id, 600)[0] for clerk in clerks]
    app = create_app(
        Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path),
        session_factory=committed_factory,
    )
    admin = ApiClient(app.test_client(), tokens[0])
    sold = order(admin, customer(admin)["id"], total="4000")
    due = receivable(admin, sold["id"], "2027-01-01", "4000")
    barrier, statuses = threading.Barrier(len(tokens)), []

    def pay(token: str) -> None:
        api = ApiClient(app.test_client(), token)
        barrier.wait()
        response = api.post("/api/v1/payments", json={"receivable_id": due["id"], "amount": 1000})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=pay, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(statuses)[:4] == [201] * 4 and set(sorted(statuses)[4:]) <= {409, 422}
    after = admin.get(f"/api/v1/receivables/{due['id']}").get_json()
    assert (after["paid_amount"], after["status"], after["version"]) == (4000.0, "paid", 5)


# --- data scope and concurrency -----------------------------------------------------------


def test_another_branch_cannot_see_or_guess_sales_and_service_records(company):
    buyer = customer(company.sales_a1)
    opportunity = created(
        company.sales_a1.post(
            "/api/v1/opportunities", json={"customer_id": buyer["id"], "title": "秋冬订单"}
        )
    )
    sold = order(company.sales_a1, buyer["id"])
    ticket = created(
        company.service_a1.post(
            "/api/v1/service-requests",
            json={"customer_id": buyer["id"], "subject": "面料起球", "channel": "phone"},
        )
    )
    urls = [
        f"/api/v1/opportunities/{opportunity['id']}",
        f"/api/v1/orders/{sold['id']}",
        f"/api/v1/service-requests/{ticket['id']}",
    ]

    for url in urls:
        collection = url.split("/")[3]
        for outsider in (company.sales_b, company.manager_b, company.sales_a1_peer):
            assert outsider.get(url).status_code == 404, (url, outsider.user.username)
            assert outsider.get(f"/api/v1/{collection}").get_json()["total"] == 0
        if collection != "service-requests":  # salespeople only read those
            assert company.sales_b.patch(url, json={"version": 1}).status_code == 404
        # The branch manager sees the subtree, the owner sees their own.
        assert company.manager_a.get(url).status_code == 200
        assert company.sales_a1.get(url).status_code == 200
    assert company.manager_a.get("/api/v1/orders").get_json()["total"] == 1
    # Nor can an outsider attach records to them.
    guess = company.sales_b.post("/api/v1/payments", json={"order_id": sold["id"], "amount": 1})
    assert "order_id" in errors_of(guess)


def test_a_stale_version_is_a_conflict(company):
    buyer = customer(company.sales_a1)
    sold = order(company.sales_a1, buyer["id"])
    url = f"/api/v1/orders/{sold['id']}"

    first = company.sales_a1.patch(url, json={"status": "in_production", "version": 1})
    second = company.manager_a.patch(url, json={"promised_on": "2027-03-01", "version": 1})

    assert first.status_code == 200 and first.get_json()["version"] == 2
    assert second.status_code == 409
    assert second.get_json()["error"]["details"]["current_version"] == 2
    assert company.sales_a1.get(url).get_json()["promised_on"] is None


def test_custom_fields_apply_to_the_new_collections(company):
    defined = company.admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "orders",
            "name": "dye_lot",
            "type": "text",
            "required": True,
            "label": {"zh": "缸号", "en": "Dye lot"},
        },
    )
    assert defined.status_code == 201, defined.get_json()
    buyer = customer(company.sales_a1)

    missing = company.sales_a1.post(
        "/api/v1/orders", json={"customer_id": buyer["id"], "order_no": "SO-9"}
    )
    assert "custom.dye_lot" in errors_of(missing)
    sold = order(company.sales_a1, buyer["id"], custom={"dye_lot": "L-0815"})
    assert sold["custom"] == {"dye_lot": "L-0815"}
    found = company.sales_a1.get("/api/v1/orders?custom.dye_lot=L-0815").get_json()
    assert found["total"] == 1


# --- commissions and plans ----------------------------------------------------------------


def test_commissions_are_computed_and_visible_to_the_salesperson(company):
    buyer = customer(company.sales_a1)
    sold = order(company.sales_a1, buyer["id"], total="12345.50")
    body = {"user_id": company.sales_a1.user.id, "order_id": sold["id"], "rate": "3.5"}

    assert company.sales_a1.post("/api/v1/commissions", json=body).status_code == 403
    outside = company.manager_b.post("/api/v1/commissions", json=body)
    assert "order_id" in errors_of(outside)  # manager B cannot see the order
    nobody = company.manager_a.post("/api/v1/commissions", json={**body, "user_id": 99_999})
    assert "user_id" in errors_of(nobody)
    commission = created(
        company.manager_a.post("/api/v1/commissions", json={**body, "period": "2026-11"})
    )

    # 12345.50 × 3.5 % = 432.0925 → 432.09
    assert (commission["base_amount"], commission["amount"]) == (12345.5, 432.09)
    assert commission["owner_id"] == company.sales_a1.user.id
    assert company.sales_a1.get(f"/api/v1/commissions/{commission['id']}").status_code == 200
    assert company.sales_a1_peer.get("/api/v1/commissions").get_json()["total"] == 0


def test_sales_plans_target_a_person_or_a_unit_once_per_period(company):
    manager = company.manager_a
    bad = manager.post("/api/v1/sales-plans", json={"period": "2026-13", "target_amount": -1})
    assert {"period", "target_amount"} <= set(errors_of(bad))
    neither = manager.post("/api/v1/sales-plans", json={"period": "2026-Q4", "target_amount": 1})
    assert "user_id" in errors_of(neither)

    personal = created(
        manager.post(
            "/api/v1/sales-plans",
            json={"user_id": company.sales_a1.user.id, "period": "2026-Q4", "target_amount": 5e5},
        )
    )
    unit = created(
        manager.post(
            "/api/v1/sales-plans",
            json={"org_unit_id": company.units["a"].id, "period": "2026", "target_amount": 9e6},
        )
    )
    assert (unit["owner_id"], unit["org_unit_id"]) == (None, company.units["a"].id)
    again = manager.post(
        "/api/v1/sales-plans",
        json={"user_id": company.sales_a1.user.id, "period": "2026-Q4", "target_amount": 1},
    )
    assert "period" in errors_of(again)
    foreign = manager.post(
        "/api/v1/sales-plans",
        json={"org_unit_id": company.units["b"].id, "period": "2026", "target_amount": 1},
    )
    assert errors_of(foreign)["org_unit_id"] == ["Outside your data scope."]
    mine = company.sales_a1.get("/api/v1/sales-plans").get_json()["items"]
    assert [plan["id"] for plan in mine] == [personal["id"]]


# --- service ------------------------------------------------------------------------------


def test_a_service_request_gets_an_sla_and_needs_a_resolution(company):
    agent, buyer = company.service_a1, customer(company.sales_a1)
    contract = created(
        company.sales_a1.post(
            "/api/v1/contracts",
            json={
                "customer_id": buyer["id"],
                "contract_no": "HT-9",
                "title": "保修合同",
                "ends_on": "2027-06-30",
            },
        )
    )
    bad = agent.post(
        "/api/v1/service-requests",
        json={"customer_id": buyer["id"], "subject": "x", "channel": "pigeon", "satisfaction": 6},
    )
    assert {"channel", "satisfaction"} <= set(errors_of(bad))

    with clock.frozen_at(NOON_20_NOV):
        ticket = created(
            agent.post(
                "/api/v1/service-requests",
                json={
                    "customer_id": buyer["id"],
                    "contract_id": contract["id"],
                    "subject": "色差投诉",
                    "priority": "urgent",
                    "channel": "fax",
                },
            )
        )
    assert ticket["sla_due_at"] == "2026-11-20T08:00:00+00:00"  # urgent: 4 hours
    assert ticket["warranty_until"] == "2027-06-30"  # from the contract
    assert ticket["org_unit_id"] == company.units["a1"].id
    url = f"/api/v1/service-requests/{ticket['id']}"

    unresolved = agent.patch(url, json={"status": "resolved", "version": 1})
    assert "resolution" in errors_of(unresolved)
    resolved = agent.patch(
        url, json={"status": "resolved", "resolution": "更换批次", "satisfaction": 5, "version": 1}
    )
    assert resolved.status_code == 200 and resolved.get_json()["resolved_at"] is not None
    # The customer's salesperson reads it; another branch does not.
    assert company.sales_a1.get(url).status_code == 200
    assert company.sales_a1.patch(url, json={"version": 2}).status_code == 403
    assert company.sales_b.get(url).status_code == 404


def test_defects_and_knowledge_base_articles(company):
    fabric = product(company.manager_a)
    agent = company.service_a1

    assert "product_id" in errors_of(agent.post("/api/v1/defects", json={"description": "断纱"}))
    defect = created(
        agent.post(
            "/api/v1/defects",
            json={"product_id": fabric["id"], "description": "断纱", "severity": "high"},
        )
    )
    url = f"/api/v1/defects/{defect['id']}"
    assert "root_cause" in errors_of(agent.patch(url, json={"status": "fixed", "version": 1}))

    article = created(
        agent.post(
            "/api/v1/articles",
            json={
                "title": "塔夫绸起皱",
                "problem": "水洗后起皱",
                "solution": "降低定型温度至160度",
                "product_id": fabric["id"],
                "tags": ["后整理"],
            },
        )
    )
    assert "owner_id" not in article  # the knowledge base belongs to everyone
    found = company.sales_b.get("/api/v1/articles?q=定型温度").get_json()
    assert [item["id"] for item in found["items"]] == [article["id"]]
    assert company.sales_b.post("/api/v1/articles", json={}).status_code == 403


# --- marketing ----------------------------------------------------------------------------


@pytest.fixture
def graded_customers(company):
    return {
        "a1_A": customer(company.sales_a1, "苏州甲", grade="A"),
        "a1_B": customer(company.sales_a1, "苏州乙", grade="B"),
        "b_A": customer(company.sales_b, "广州丙", grade="A"),
    }


def test_campaign_targets_follow_the_saved_segment_within_your_scope(company, graded_customers):
    manager = company.manager_a
    bad = manager.post(
        "/api/v1/campaigns",
        json={"name": "春季新品", "segment": {"filters": {"colour": "red", "grade": "A"}}},
    )
    assert "segment.filters.colour" in errors_of(bad)
    campaign = created(
        manager.post(
            "/api/v1/campaigns",
            json={
                "name": "春季新品",
                "channel": "wechat",
                "starts_on": "2027-02-01",
                "ends_on": "2027-03-31",
                "budget": 20000,
                "segment": {"q": "", "filters": {"grade": "A"}},
            },
        )
    )
    url = f"/api/v1/campaigns/{campaign['id']}/targets"

    def targets(api):
        body = api.get(url).get_json()
        return {item["name"] for item in body["items"]}, body["total"]

    assert targets(manager) == ({"苏州甲"}, 1)  # branch B's A customer is not in her scope
    assert targets(company.executive) == ({"苏州甲", "广州丙"}, 2)
    assert targets(company.sales_b) == ({"广州丙"}, 1)
    assert company.admin.get("/api/v1/campaigns/999999/targets").status_code == 404
