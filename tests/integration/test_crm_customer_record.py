"""The shared customer record's fields through the API: search, lifecycle, tags, credit,
cooperation history; contacts with roles and channels; interactions on every channel; the
product catalogue brand → series → item."""

from __future__ import annotations

import pytest

from tests.support.http import created

JINHUA = {
    "name": "苏州锦华纺织有限公司",
    "short_name": "锦华",
    "phone": "0512-65881234",
    "tax_id": "91320500MA1XYZ1234",
}
OTHER = {"name": "无锡新丝路服饰有限公司", "short_name": "新丝路", "phone": "0510-82223333"}


def found(api, query: str) -> set:
    body = api.get(f"/api/v1/customers?{query}").get_json()
    assert body["total"] == len(body["items"])
    return {item["name"] for item in body["items"]}


@pytest.mark.parametrize(
    "q",
    [
        "锦华纺织",  # part of the name
        "锦华",  # the short name
        "szjhfz",  # pinyin initials of the name
        "jh",  # pinyin initials of the short name
        "suzhoujinhua",  # full pinyin
        "JINHUA",  # any case
        "65881234",  # phone
        "0512-6588",
        "MA1XYZ",  # tax id (with the view_sensitive grant)
    ],
)
def test_q_matches_name_short_name_pinyin_phone_and_tax_id(company, q):
    manager = company.manager_a  # holds view_sensitive
    created(manager.post("/api/v1/customers", json=JINHUA))
    created(manager.post("/api/v1/customers", json=OTHER))

    assert found(manager, f"q={q}") == {JINHUA["name"]}


def test_q_matches_nothing_else_and_blank_q_lists_all(company):
    manager = company.manager_a
    created(manager.post("/api/v1/customers", json=JINHUA))
    created(manager.post("/api/v1/customers", json=OTHER))

    assert found(manager, "q=beijing") == set()
    assert found(manager, "q=%20") == {JINHUA["name"], OTHER["name"]}
    assert found(manager, "q=%25") == set()  # a LIKE wildcard is not a wildcard here
    too_long = manager.get("/api/v1/customers?q=" + "x" * 201)
    assert too_long.status_code == 422 and "q" in too_long.get_json()["error"]["details"]


def test_lifecycle_tags_credit_and_cooperation_history(company):
    sales = company.sales_a1
    body = {
        **JINHUA,
        "kind": "company",
        "relation": "fabric_supplier",
        "grade": "A",
        "credit_rating": "AA",
        "credit_limit": "500000.00",
        "cooperation_since": "2019-03-15",
        "total_business": 1234567.89,
        "tags": ["面料", "老客户"],
        "industry": "textile",
        "company_nature": "民营",
        "size": "200-500人",
        "address": "苏州市吴中区",
        "region": "华东",
        "bank_name": "中国工商银行苏州分行",
    }
    customer = created(sales.post("/api/v1/customers", json=body))

    assert customer["lifecycle_stage"] == "prospect"  # the default stage
    assert (customer["credit_limit"], customer["total_business"]) == (500000.0, 1234567.89)
    assert customer["cooperation_since"] == "2019-03-15"
    assert customer["tags"] == ["面料", "老客户"]
    assert customer["relation"] == "fabric_supplier" and customer["credit_rating"] == "AA"
    url = f"/api/v1/customers/{customer['id']}"
    version = 1
    for stage in ("active", "dormant", "lost", "prospect"):
        moved = sales.patch(url, json={"version": version, "lifecycle_stage": stage})
        assert moved.status_code == 200 and moved.get_json()["lifecycle_stage"] == stage
        version += 1
    created(sales.post("/api/v1/customers", json={**OTHER, "lifecycle_stage": "dormant"}))
    assert found(sales, "lifecycle_stage=dormant") == {OTHER["name"]}
    assert found(sales, "relation=fabric_supplier") == {JINHUA["name"]}
    ranked = sales.get("/api/v1/customers?sort=-total_business").get_json()["items"]
    assert [c["name"] for c in ranked] == [JINHUA["name"], OTHER["name"]]

    bad = sales.post(
        "/api/v1/customers",
        json={
            "name": "坏",
            "lifecycle_stage": "happy",
            "credit_limit": -1,
            "credit_rating": "Z",
            "cooperation_since": "2019-02-30",
            "tags": ["", "x" * 51],
        },
    )
    assert bad.status_code == 422
    details = bad.get_json()["error"]["details"]
    assert {"lifecycle_stage", "credit_limit", "credit_rating", "cooperation_since"} <= set(details)
    assert any(key.startswith("tags") for key in details)
    assert sales.get("/api/v1/customers?lifecycle_stage=happy").get_json()["total"] == 0


def test_contacts_have_roles_and_channels(company):
    sales = company.sales_a1
    customer = created(sales.post("/api/v1/customers", json=JINHUA))
    contact = created(
        sales.post(
            "/api/v1/contacts",
            json={
                "customer_id": customer["id"],
                "name": "王经理",
                "title": "采购部经理",
                "role": "purchaser",
                "phone": "0512-65880000",
                "mobile": "13912345678",
                "email": "wang@jinhua.example.cn",
                "wechat": "wang_jh",
                "is_primary": True,
            },
        )
    )
    assert (contact["role"], contact["mobile"], contact["wechat"]) == (
        "purchaser",
        "13912345678",
        "wang_jh",
    )
    created(sales.post("/api/v1/contacts", json={"customer_id": customer["id"], "name": "李会计"}))
    assert sales.get("/api/v1/contacts?role=purchaser").get_json()["total"] == 1
    assert sales.get("/api/v1/contacts?q=13912345678").get_json()["total"] == 1
    bad = sales.post(
        "/api/v1/contacts",
        json={"customer_id": customer["id"], "name": "x", "role": "boss", "email": "nope"},
    )
    assert bad.status_code == 422
    assert {"role", "email"} <= set(bad.get_json()["error"]["details"])


def test_interactions_on_every_channel_link_the_right_contact(company):
    sales = company.sales_a1
    customer = created(sales.post("/api/v1/customers", json=JINHUA))
    other = created(sales.post("/api/v1/customers", json=OTHER))
    contact = created(
        sales.post("/api/v1/contacts", json={"customer_id": customer["id"], "name": "王经理"})
    )
    stranger = created(
        company.sales_b.post(
            "/api/v1/contacts",
            json={
                "customer_id": created(
                    company.sales_b.post("/api/v1/customers", json={"name": "广州"})
                )["id"],
                "name": "陌生人",
            },
        )
    )

    for channel in ("visit", "phone", "email", "fax", "letter", "web", "im"):
        logged = sales.post(
            "/api/v1/interactions",
            json={
                "customer_id": customer["id"],
                "contact_id": contact["id"],
                "channel": channel,
                "direction": "inbound" if channel == "phone" else "outbound",
                "occurred_at": "2026-11-20T09:30:00+08:00",
                "summary": f"{channel} 跟进",
                "subject_type": "order",
                "subject_id": "SO-2026-001",
            },
        )
        created(logged)
    listed = sales.get(f"/api/v1/interactions?customer_id={customer['id']}").get_json()
    assert listed["total"] == 7
    assert sales.get("/api/v1/interactions?channel=fax").get_json()["total"] == 1
    timeline = sales.get(f"/api/v1/customers/{customer['id']}/timeline").get_json()["items"]
    assert {item["channel"] for item in timeline if item["kind"] == "interactions"} == {
        "visit",
        "phone",
        "email",
        "fax",
        "letter",
        "web",
        "im",
    }

    def refused(**changes) -> dict:
        body = {"customer_id": customer["id"], "channel": "phone", "summary": "x", **changes}
        response = sales.post("/api/v1/interactions", json=body)
        assert response.status_code == 422, response.get_json()
        return response.get_json()["error"]["details"]

    assert "channel" in refused(channel="carrier_pigeon")
    assert "direction" in refused(direction="sideways")
    assert "contact_id" in refused(contact_id=stranger["id"])  # another branch's contact
    assert "contact_id" in refused(contact_id=999_999)
    wrong = refused(customer_id=other["id"], contact_id=contact["id"])
    assert wrong == {"contact_id": ["This contact belongs to another customer."]}


def test_products_brand_series_item(company):
    manager = company.manager_a
    catalogue = [
        ("JH-PO-001", "全棉府绸 40s", "锦华", "府绸", "metre", "18.50"),
        ("JH-PO-002", "全棉府绸 60s", "锦华", "府绸", "metre", "24.00"),
        ("JH-TF-001", "涤纶塔夫绸", "锦华", "塔夫绸", "metre", "9.80"),
        ("XS-SH-001", "男士衬衫", "新丝路", "衬衫", "piece", "128.00"),
    ]
    for sku, name, brand, series, unit, price in catalogue:
        body = {"sku": sku, "name": name, "brand": brand, "series": series, "unit": unit}
        created(manager.post("/api/v1/products", json={**body, "price": price}))

    def skus(query: str) -> list:
        body = company.sales_a1.get(f"/api/v1/products?{query}").get_json()  # all may read
        return [item["sku"] for item in body["items"]]

    assert sorted(skus("brand=锦华")) == ["JH-PO-001", "JH-PO-002", "JH-TF-001"]
    assert sorted(skus("brand=锦华&series=府绸")) == ["JH-PO-001", "JH-PO-002"]
    assert skus("brand=锦华&series=府绸&sort=-price") == ["JH-PO-002", "JH-PO-001"]
    assert skus("sort=sku")[0] == "JH-PO-001"
    item = company.sales_a1.get("/api/v1/products?q=衬衫").get_json()["items"][0]
    assert (item["unit"], item["price"]) == ("piece", 128.0)
    missing = manager.post("/api/v1/products", json={"sku": "X-1", "name": "x", "unit": "bale"})
    assert missing.status_code == 422
    assert {"brand", "series", "unit"} <= set(missing.get_json()["error"]["details"])
    assert company.sales_a1.post("/api/v1/products", json={}).status_code == 403
