"""Customer value analytics over the REST API, on small data sets worked out by hand:
RFM, lifetime value, the value matrix and its admin thresholds, grades with history, segments,
the profile report, sales (funnel, forecast, plan, ageing) and service figures, CSV answers,
recompute jobs, and the viewer's data scope on every figure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core import clock
from crm_domain.analytics import rfm

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 on 20 Nov 2026 in China


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def customer(api, name, region="华东") -> int:
    return ok(api.post("/api/v1/customers", json={"name": name, "region": region}), 201)["id"]


def order(api, customer_id, number, on, total, product_id=None, status=None) -> int:
    line = {"description": "全棉府绸", "quantity": "1", "unit_price": str(total)}
    if product_id:
        line["product_id"] = product_id
    body = {"customer_id": customer_id, "order_no": number, "ordered_on": on, "lines": [line]}
    if status:
        body["status"] = status
    return ok(api.post("/api/v1/orders", json=body), 201)["id"]


def recompute(api) -> dict:
    job = ok(api.post("/api/v1/analytics/recompute", json={"wait": True}))
    assert job["status"] == "succeeded", job
    return job


def by_customer(items) -> dict:
    return {item["customer_id"]: item for item in items}


@pytest.fixture
def book(company):
    """Two customers with orders and one without in office A1, one buyer in branch B."""
    a1, b = company.sales_a1, company.sales_b
    c1, c2 = customer(a1, "苏州锦华纺织"), customer(a1, "无锡恒丰服饰")
    c3 = customer(a1, "常州美亚")
    c4 = customer(b, "广州申洲制衣", region="华南")
    order(a1, c1, "SO-1", "2026-01-10", 1000)
    last = order(a1, c1, "SO-2", "2026-10-21", 3000)
    order(a1, c2, "SO-3", "2025-06-01", 500)
    order(b, c4, "SO-4", "2026-11-09", 9999)
    admin = company.admin
    ok(
        admin.patch(
            "/api/v1/analytics/settings",
            json={
                "marketing_cost": 0,
                "service_cost": 0,
                "acquisition_cost": 0,
                "referral_rate": 0,
            },
        )
    )
    recompute(admin)

    class Book:
        ids = {"c1": c1, "c2": c2, "c3": c3, "c4": c4}
        last_order = last

    return Book


def test_rfm_figures_and_scores_within_each_viewers_scope(company, book):
    ids = book.ids
    mine = ok(company.sales_a1.get("/api/v1/analytics/rfm"))
    assert mine["total"] == 3  # their own three customers, not branch B's
    rows = by_customer(mine["items"])
    assert set(rows) == {ids["c1"], ids["c2"], ids["c3"]}
    c1, c2 = rows[ids["c1"]], rows[ids["c2"]]
    assert (c1["recency_days"], c1["frequency"], c1["monetary"]) == (30, 2, 4000.0)
    assert (c2["recency_days"], c2["frequency"], c2["monetary"]) == (537, 1, 500.0)
    # Scored among the three buyers (C4 too): ⌈5 × (rank − ½) / 3⌉
    assert c1["rfm_score"] == 353 and c2["rfm_score"] == 121
    assert rows[ids["c3"]]["frequency"] == 0 and rows[ids["c3"]]["rfm_score"] is None

    theirs = ok(company.sales_b.get("/api/v1/analytics/rfm"))
    assert [r["customer_id"] for r in theirs["items"]] == [ids["c4"]]
    everyone = ok(company.executive.get("/api/v1/analytics/rfm?sort=-monetary"))
    assert [r["customer_id"] for r in everyone["items"]][:2] == [ids["c4"], ids["c1"]]


def test_lifetime_values_use_the_admins_parameters(company, book):
    rows = by_customer(ok(company.sales_a1.get("/api/v1/analytics/clv"))["items"])
    # 2 orders a year (tenure under a year counts as one) × 2,000 × 25 % margin, no yearly
    # costs, no acquisition cost, no referrals: 1,000 × 0.8 / (1.08 − 0.8)
    assert rows[book.ids["c1"]]["clv_retention"] == pytest.approx(2857.14, abs=0.01)
    calculator = ok(
        company.sales_a1.get("/api/v1/analytics/clv/retention?orders_per_year=2&order_size=2000")
    )
    assert calculator["clv"] == pytest.approx(2857.14, abs=0.01)
    assert calculator["margin_per_year"] == 1000
    bad = company.sales_a1.get("/api/v1/analytics/clv/retention?order_size=lots")
    assert bad.status_code == 422 and "order_size" in bad.get_json()["error"]["details"]


def test_value_matrix_thresholds_take_effect_on_the_next_request(company, book):
    admin, sales = company.admin, company.sales_a1
    ok(
        admin.patch(
            "/api/v1/analytics/settings",
            json={
                "current_value_threshold": 500,
                "potential_value_threshold": 1e12,
            },
        )
    )

    def counts():
        matrix = ok(sales.get("/api/v1/analytics/value-matrix"))
        return {q["quadrant"]: q["customers"] for q in matrix["quadrants"]}

    # C1: 4,000 of sales in 12 months × 25 % = 1,000 ≥ 500; C2 bought 17 months ago: 0.
    assert counts() == {"keep": 0, "develop": 0, "maintain": 1, "reduce_cost": 1}
    ok(admin.patch("/api/v1/analytics/settings", json={"current_value_threshold": 2000}))
    assert counts() == {"keep": 0, "develop": 0, "maintain": 0, "reduce_cost": 2}

    refused = sales.patch("/api/v1/analytics/settings", json={"retention_rate": 0.5})
    assert refused.status_code == 403
    bad = admin.patch("/api/v1/analytics/settings", json={"retention_rate": 1.5, "nope": 1})
    details = bad.get_json()["error"]["details"]
    assert bad.status_code == 422 and set(details) == {"retention_rate", "nope"}


def test_csv_answers_carry_the_same_figures(company, book):
    response = company.sales_a1.get("/api/v1/analytics/rfm?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert lines[0].startswith("customer_id,name,grade") and len(lines) == 4
    assert any(
        line.startswith(f"{book.ids['c1']},苏州锦华纺织") and ",353" in line for line in lines
    )
    summary = company.sales_a1.get("/api/v1/analytics/sales/receivables-ageing?format=csv")
    assert summary.get_data(as_text=True).lstrip("\ufeff").startswith("bucket,count,open_amount")
    assert company.sales_a1.get("/api/v1/analytics/rfm?format=xml").status_code == 422
    assert company.sales_a1.get("/api/v1/analytics/service?format=csv&table=x").status_code == 422


def test_recompute_needs_the_grant_and_reports_its_progress(company, book):
    assert company.sales_a1.post("/api/v1/analytics/recompute", json={}).status_code == 403
    job = recompute(company.admin)
    polled = ok(company.sales_a1.get(f"/api/v1/analytics/jobs/{job['id']}"))
    assert (polled["status"], polled["progress"], polled["stage"]) == ("succeeded", 100, "done")
    assert polled["result"]["customers"] == 4 and polled["result"]["buyers"] == 3
    assert company.admin.get("/api/v1/analytics/jobs/999999").status_code == 404
    bad = company.admin.post("/api/v1/analytics/recompute", json={"wait": "yes"})
    assert bad.status_code == 422


def test_the_profile_report_covers_seven_angles_within_scope(company, book):
    c1 = book.ids["c1"]
    report = ok(company.sales_a1.get(f"/api/v1/analytics/customers/{c1}/profile"))
    for angle in (
        "profile",
        "loyalty",
        "profitability",
        "performance",
        "prospects",
        "products",
        "campaigns",
    ):
        assert angle in report
    assert report["profile"]["name"] == "苏州锦华纺织"
    assert report["loyalty"]["orders"] == 2 and report["loyalty"]["repeat_buyer"] is True
    assert report["loyalty"]["mean_days_between_orders"] == 284.0
    assert report["profitability"]["sales"] == 4000 and report["profitability"]["margin"] == 1000
    assert report["performance"]["sales_12m"] == 4000
    assert company.sales_b.get(f"/api/v1/analytics/customers/{c1}/profile").status_code == 404


def test_segments_save_filters_with_value_ranges(company, book):
    sales = company.sales_a1
    bad = sales.post(
        "/api/v1/analytics/segments",
        json={
            "name": "",
            "definition": {"filters": {"nope": "x"}, "ranges": {"bogus": [1, 2]}},
        },
    )
    assert bad.status_code == 422
    assert "name" in bad.get_json()["error"]["details"]
    bad = sales.post(
        "/api/v1/analytics/segments",
        json={
            "name": "x",
            "definition": {"filters": {"nope": "x"}, "ranges": {"monetary": [5, 1]}},
        },
    )
    details = bad.get_json()["error"]["details"]
    assert {"definition.filters.nope", "definition.ranges.monetary"} <= set(details)
    # Bounds beyond any figure (a typo's extra digits) are refused, not saved to fail later.
    for huge in (10**23, 1e300, -(10**16)):
        bad = sales.post(
            "/api/v1/analytics/segments",
            json={"name": "x", "definition": {"ranges": {"frequency": [huge, None]}}},
        )
        assert bad.status_code == 422
        assert bad.get_json()["error"]["details"]["definition.ranges.frequency"] == [
            "Give bounds between -10^15 and 10^15."
        ]

    segment = ok(
        sales.post(
            "/api/v1/analytics/segments",
            json={
                "name": "华东大客户",
                "definition": {"filters": {"region": "华东"}, "ranges": {"monetary": [1000, None]}},
            },
        ),
        201,
    )
    picked = ok(sales.get(f"/api/v1/analytics/segments/{segment['id']}/customers"))
    assert [c["customer_id"] for c in picked["items"]] == [book.ids["c1"]]
    compared = ok(sales.get(f"/api/v1/analytics/segments/{segment['id']}/comparison"))
    assert compared["summary"]["customers"] == 1
    assert compared["summary"]["average_sales"] == 4000
    # the same filter through a query string, and nothing outside the viewer's scope
    wide = ok(company.sales_b.get("/api/v1/analytics/customers?region=华东"))
    assert wide["total"] == 0
    assert company.sales_b.get(f"/api/v1/analytics/segments/{segment['id']}").status_code == 404
    # An id past what an INTEGER column holds is no segment, not a database error.
    for huge in (2**31, 10**20):
        for path in ("", "/customers", "/comparison"):
            assert sales.get(f"/api/v1/analytics/segments/{huge}{path}").status_code == 404
        assert sales.patch(f"/api/v1/analytics/segments/{huge}", json={}).status_code == 404
        assert sales.delete(f"/api/v1/analytics/segments/{huge}").status_code == 404


def test_order_history_counts_what_was_bought_and_the_first_days_spend(company, session):
    sales = company.sales_a1
    fabrics = [
        ok(
            company.admin.post(
                "/api/v1/products",
                json={
                    "sku": f"FB-{i}",
                    "name": f"府绸{i}",
                    "brand": "锦华",
                    "series": "府绸",
                    "price": "10",
                },
            ),
            201,
        )["id"]
        for i in range(3)
    ]
    c = customer(sales, "南通华强")
    order(sales, c, "SO-H1", "2024-09-01", 700, fabrics[0], status="draft")
    order(sales, c, "SO-H2", "2024-10-01", 400, fabrics[2])  # first purchase day: two orders
    order(sales, c, "SO-H3", "2024-10-01", 200, fabrics[2])
    order(sales, c, "SO-H4", "2024-10-01", 50, fabrics[0], status="cancelled")
    order(sales, c, "SO-H5", "2025-06-01", 1000, fabrics[0])
    order(sales, c, "SO-H6", "2026-10-21", 3000, fabrics[1])
    order(sales, c, "SO-H7", "2026-10-21", 100, fabrics[0])

    # What the recompute reads: drafts and cancelled orders do not count; the first day's
    # spend (left out of the BG/NBD repeat spend) is all of that day's counted orders.
    history = {
        row.customer_id: row
        for row in session.execute(rfm.order_summary_select(NOW.date() - timedelta(days=365)))
    }[c]
    assert (history.orders, history.purchase_days) == (5, 3)
    assert (history.first_on, history.last_on) == (date(2024, 10, 1), date(2026, 10, 21))
    assert float(history.total) == 4700 and float(history.total_12m) == 3100
    assert float(history.first_day_total) == 600

    recompute(company.admin)
    row = by_customer(ok(sales.get("/api/v1/analytics/customers"))["items"])[c]
    assert (row["frequency"], row["monetary"]) == (5, 4700.0)
    assert (row["first_order_on"], row["last_order_on"]) == ("2024-10-01", "2026-10-21")
    # Products bought in the last two years' counted orders: the third fabric only before
    assert row["product_value"] == 2


def test_grades_come_from_clustering_and_keep_a_history(company):
    sales, admin = company.sales_a1, company.admin
    big = [customer(sales, f"大客户{i}") for i in range(4)]
    small = [customer(sales, f"小客户{i}") for i in range(4)]
    number = 0
    for i, cid in enumerate(big):
        for month in (3, 6, 9):
            number += 1
            order(sales, cid, f"SO-B{number}", f"2026-{month:02d}-{10 + i}", 100_000 + i)
    for i, cid in enumerate(small):
        number += 1
        order(sales, cid, f"SO-S{number}", f"2024-12-{10 + i}", 1_000 + i)
    job = recompute(admin)
    assert job["result"]["clustering"]["k"] == 2
    rows = by_customer(ok(sales.get("/api/v1/analytics/customers?per_page=20"))["items"])
    assert {rows[c]["grade"] for c in big} == {"A"}
    assert {rows[c]["grade"] for c in small} == {"C"}  # two clusters: A and C
    record = ok(sales.get(f"/api/v1/customers/{big[0]}"))
    assert record["grade"] == "A"  # written to the customer, where processes read it
    history = ok(sales.get(f"/api/v1/analytics/customers/{big[0]}/grade-history"))["items"]
    assert [(h["from_grade"], h["to_grade"], h["reason"]) for h in history] == [
        (None, "A", "clustering")
    ]
    recompute(admin)  # same data, same grades: no new history
    again = ok(sales.get(f"/api/v1/analytics/customers/{big[0]}/grade-history"))["items"]
    assert len(again) == 1
    distribution = ok(sales.get("/api/v1/analytics/grades"))
    assert {g["grade"]: g["customers"] for g in distribution["grades"]} == {"A": 4, "C": 4}


def test_funnel_win_rate_and_pipeline_forecast(company, book):
    sales, c1 = company.sales_a1, book.ids["c1"]
    for stage, amount, probability, close in (
        ("prospecting", 100, 10, None),
        ("qualification", 200, 20, None),
        ("proposal", 300, 50, "2026-12-15"),
        ("negotiation", 400, 75, "2027-02-01"),
        ("won", 500, None, None),
        ("won", 600, None, None),
        ("lost", 700, None, None),
    ):
        body = {"customer_id": c1, "title": f"{stage} {amount}", "stage": stage, "amount": amount}
        if probability is not None:
            body["probability"] = probability
        if close:
            body["expected_close"] = close
        if stage == "lost":
            body["lost_reason"] = "价格"
        ok(sales.post("/api/v1/opportunities", json=body), 201)
    funnel = ok(sales.get("/api/v1/analytics/sales/funnel"))
    stages = {s["stage"]: s for s in funnel["stages"]}
    assert [
        stages[s]["reached"]
        for s in ("prospecting", "qualification", "proposal", "negotiation", "won")
    ] == [7, 5, 4, 3, 2]
    assert stages["prospecting"]["conversion_to_next"] == pytest.approx(5 / 7, abs=1e-4)
    assert stages["negotiation"]["conversion_to_next"] == pytest.approx(2 / 3, abs=1e-4)
    assert funnel["win_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert stages["won"]["amount"] == 1100
    assert ok(company.sales_b.get("/api/v1/analytics/sales/funnel"))["total"] == 0

    forecast = ok(sales.get("/api/v1/analytics/sales/forecast"))
    quarters = {q["quarter"]: q for q in forecast["quarters"]}
    assert list(quarters) == ["2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3"]
    assert quarters["2026-Q4"]["pipeline_weighted"] == 150  # 300 × 50 %
    assert quarters["2027-Q1"]["pipeline_weighted"] == 300  # 400 × 75 %
    # History 2025-Q2..2026-Q3 = 500, 0, 0, 1000, 0, 0: six quarters, seasonal naive
    assert forecast["method"] == "seasonal_naive"
    assert [q["history_forecast"] for q in forecast["quarters"]] == [0, 1000, 0, 0]
    assert company.sales_a1.get("/api/v1/analytics/sales/forecast?quarters=99").status_code == 422


def test_sales_against_plan_by_person_and_branch(company, book):
    manager = company.manager_a
    ok(
        manager.post(
            "/api/v1/sales-plans",
            json={
                "user_id": company.sales_a1.user.id,
                "period": "2026-Q4",
                "target_amount": 10000,
            },
        ),
        201,
    )
    ok(
        manager.post(
            "/api/v1/sales-plans",
            json={
                "org_unit_id": company.units["a"].id,
                "period": "2026",
                "target_amount": 8000,
            },
        ),
        201,
    )
    items = ok(manager.get("/api/v1/analytics/sales/plan"))["items"]
    person = next(i for i in items if i["kind"] == "salesperson")
    branch = next(i for i in items if i["kind"] == "branch")
    assert (person["actual"], person["attainment"], person["gap"]) == (3000, 0.3, 7000)
    assert (branch["actual"], branch["attainment"]) == (4000, 0.5)
    assert ok(manager.get("/api/v1/analytics/sales/plan?period=2025"))["items"] == []
    assert manager.get("/api/v1/analytics/sales/plan?period=soon").status_code == 422


def test_receivables_ageing_buckets(company, book):
    sales = company.sales_a1
    receivable_ids = []
    for due, amount in (("2026-12-01", 1000), ("2026-11-10", 500), ("2026-08-01", 700)):
        body = {"order_id": book.last_order, "due_on": due, "amount": amount}
        receivable_ids.append(ok(sales.post("/api/v1/receivables", json=body), 201)["id"])
    ok(
        sales.post("/api/v1/payments", json={"receivable_id": receivable_ids[2], "amount": 200}),
        201,
    )
    ageing = ok(sales.get("/api/v1/analytics/sales/receivables-ageing"))
    buckets = {b["bucket"]: b["open_amount"] for b in ageing["buckets"]}
    assert buckets == {"not_due": 1000, "1_30": 500, "31_60": 0, "61_90": 0, "over_90": 500}
    assert (ageing["total_open"], ageing["overdue"]) == (2000, 1000)
    others = ok(company.sales_b.get("/api/v1/analytics/sales/receivables-ageing"))
    assert others["total_open"] == 0


def test_service_volumes_sla_defects_and_satisfaction(company, book):
    agent, c1 = company.service_a1, book.ids["c1"]
    products = [
        ok(
            company.admin.post(
                "/api/v1/products",
                json={
                    "sku": sku,
                    "name": name,
                    "brand": "锦华",
                    "series": "府绸",
                    "price": "10",
                },
            ),
            201,
        )["id"]
        for sku, name in (("P-1", "全棉府绸"), ("P-2", "涤纶塔夫绸"))
    ]
    in_time = (NOW + timedelta(hours=1)).isoformat()
    late = (NOW - timedelta(hours=1)).isoformat()
    requests = [
        ok(
            agent.post(
                "/api/v1/service-requests",
                json={
                    "customer_id": c1,
                    "subject": subject,
                    "sla_due_at": due,
                    "priority": "high",
                },
            ),
            201,
        )
        for subject, due in (("色差", in_time), ("缩水", late), ("断纱", late))
    ]
    for request, rating in zip(requests[:2], (5, 3), strict=True):
        ok(
            agent.patch(
                f"/api/v1/service-requests/{request['id']}",
                json={
                    "status": "resolved",
                    "resolution": "已换货",
                    "satisfaction": rating,
                    "version": request["version"],
                },
            )
        )
    for product_id in (products[0], products[0], products[1]):
        ok(
            agent.post("/api/v1/defects", json={"product_id": product_id, "description": "色牢度"}),
            201,
        )
    figures = ok(agent.get("/api/v1/analytics/service"))
    assert figures["total"] == 3
    assert figures["by_status"] == {"new": 1, "resolved": 2}
    assert figures["sla"] == {
        "resolved": 2,
        "resolved_in_time": 1,
        "attainment": 0.5,
        "open_breached": 1,
    }
    assert figures["satisfaction"]["average"] == 4.0
    assert [d["sku"] for d in figures["top_defects"]] == ["P-1", "P-2"]
    assert figures["top_defects"][0]["defects"] == 2
    assert ok(company.sales_b.get("/api/v1/analytics/service"))["total"] == 0


def test_a_campaign_targets_a_saved_segment_within_each_viewers_scope(company, book):
    sales = company.sales_a1
    segment = ok(
        sales.post(
            "/api/v1/analytics/segments",
            json={"name": "高频客户", "definition": {"ranges": {"frequency": [2, None]}}},
        ),
        201,
    )
    for missing in (999999, 2**31, 10**20):  # the last two no INTEGER column holds
        bad = company.manager_a.post(
            "/api/v1/campaigns", json={"name": "春季新品", "segment": {"segment_id": missing}}
        )
        assert bad.status_code == 422, missing
        assert bad.get_json()["error"]["details"] == {
            "segment.segment_id": ["No such segment that you can see."]
        }
    campaign = ok(
        company.manager_a.post(
            "/api/v1/campaigns",
            json={"name": "春季新品", "segment": {"segment_id": segment["id"]}},
        ),
        201,
    )
    targets = ok(company.manager_a.get(f"/api/v1/campaigns/{campaign['id']}/targets"))
    assert [t["id"] for t in targets["items"]] == [book.ids["c1"]]  # two orders; C2 has one
