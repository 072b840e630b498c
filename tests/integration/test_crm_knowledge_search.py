"""Knowledge-base articles found from a service request: its product's first, then by text."""

from __future__ import annotations

from tests.support.http import created


def test_an_agent_finds_articles_from_a_request(company):
    manager, agent = company.manager_a, company.service_a1
    taffeta = created(
        manager.post(
            "/api/v1/products",
            json={"sku": "JH-TF-001", "name": "涤纶塔夫绸", "brand": "锦华", "series": "塔夫绸"},
        )
    )
    poplin = created(
        manager.post(
            "/api/v1/products",
            json={"sku": "JH-PO-001", "name": "全棉府绸", "brand": "锦华", "series": "府绸"},
        )
    )

    def article(title, problem, product=None):
        body = {"title": title, "problem": problem, "solution": "见处理步骤"}
        return created(agent.post("/api/v1/articles", json={**body, "product_id": product}))

    about_taffeta = article("塔夫绸起皱", "水洗后起皱", taffeta["id"])
    shade = article("色差处理", "同批次面料色差")
    article("府绸缩水", "缩水率超标", poplin["id"])
    buyer = created(company.sales_a1.post("/api/v1/customers", json={"name": "苏州锦华"}))
    request = created(
        agent.post(
            "/api/v1/service-requests",
            json={
                "customer_id": buyer["id"],
                "product_id": taffeta["id"],
                "channel": "phone",
                "subject": "色差",
            },
        )
    )
    url = f"/api/v1/service-requests/{request['id']}/articles"

    suggested = [item["id"] for item in agent.get(url).get_json()["items"]]
    assert suggested == [about_taffeta["id"], shade["id"]]  # same product first, then "色差"
    searched = agent.get(f"{url}?q=缩水率").get_json()["items"]
    assert [item["title"] for item in searched] == ["塔夫绸起皱", "府绸缩水"]
    assert company.sales_b.get(url).status_code == 404  # not their request
    assert agent.get("/api/v1/service-requests/999999/articles").status_code == 404
