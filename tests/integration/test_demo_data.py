"""`weft demo` gives a believable company whose data scopes behave like the real thing."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_domain.customers import Customer
from crm_domain.demo import DEMO_PASSWORD, load_demo
from crm_domain.interactions import Interaction


def login(client, username):
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def total(client, username, query=""):
    response = client.get(f"/api/v1/customers{query}", headers=login(client, username))
    return response.get_json()["total"]


def test_demo_company_loads_once_and_scopes_apply(session, client):
    counts = load_demo(session, customers=120)
    session.commit()

    assert counts["customers"] == 120 and counts["users"] >= 20
    assert counts["orders"] > 100 and counts["payments"] > 50 and counts["service_requests"] > 5
    assert session.scalar(select(func.count()).select_from(Interaction)) >= 240
    assert load_demo(session, customers=120)["customers"] == 0  # never twice
    everyone = total(client, "zhao.min")
    east = total(client, "li.qiang")
    own = total(client, "wang.fang")
    assert everyone == 120
    assert 0 < own < east < everyone
    # Orders follow the season: more in the busy months than in the quiet ones.
    orders = client.get("/api/v1/orders?per_page=200", headers=login(client, "zhao.min")).get_json()
    months = [int(o["ordered_on"][5:7]) for o in orders["items"]]
    busy = sum(m in (2, 3, 8, 9, 10) for m in months)
    assert busy > len(months) - busy
    receivables = client.get(
        "/api/v1/receivables?status=overdue", headers=login(client, "zhao.min")
    )
    assert receivables.status_code == 200
    # Search by pinyin initials finds demo companies.
    sample = session.scalars(select(Customer).where(Customer.owner_id.isnot(None))).first()
    initials = sample.pinyin.split()[1][:4]
    assert total(client, "zhao.min", f"?q={initials}") >= 1
