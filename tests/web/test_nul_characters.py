"""A NUL character in any text a user sends is a 400 that names it, on both databases (on
PostgreSQL it used to fail inside the save, a 500), and nothing is saved."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_domain.customers import Customer


def test_json_form_and_query_text_with_nul_is_refused_and_nothing_is_saved(
    api_as, signed_in, session
):
    api = api_as("salesperson")
    posted = api.post("/api/v1/customers", json={"name": "苏州\u0000锦华"})
    assert posted.status_code == 400
    assert "NUL" in posted.get_json()["error"]["message"]
    assert api.get("/api/v1/customers?q=%00").status_code == 400
    assert api.get("/api/v1/customers?grade=A&grade=%00").status_code == 400  # a second value

    web = signed_in("salesperson")
    assert web.get("/customers?q=a%00b").status_code == 400
    assert web.post("/analytics/saved-segments/new", {"name": "x\x00"}).status_code == 400
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_text_without_nul_still_goes_through(api_as):
    api = api_as("salesperson")
    typed = "苏州锦华 \\u0000 (typed as six characters)"
    created = api.post("/api/v1/customers", json={"name": typed})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == typed
