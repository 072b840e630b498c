"""docs/API.md documents every collection's fields as the code defines them (no drift)."""

from __future__ import annotations

from core.config import PROJECT_ROOT
from crm_domain.collections import COLLECTIONS
from crm_domain.exchange.columns import exchange_format
from crm_domain.exchange.reference_doc import current_section, render

PAGE = PROJECT_ROOT / "docs" / "API.md"


def test_the_collections_reference_matches_the_code():
    documented = current_section(PAGE.read_text(encoding="utf-8"))

    assert documented == render(), (
        "docs/API.md is out of date: run "
        "`.venv/bin/python -m crm_domain.exchange.reference_doc docs/API.md`"
    )


def test_every_collection_and_every_field_is_on_the_page():
    page = PAGE.read_text(encoding="utf-8")
    for name in COLLECTIONS:
        assert f"### `{name}`" in page, name
        for column in exchange_format(None, name).columns:
            assert f"| `{column.name}` |" in page, (name, column.name)


def test_the_api_format_endpoint_lists_the_same_columns(company):
    """The format an integrator reads over the API is the documented one, plus custom fields."""
    company.admin.post(
        "/api/v1/admin/fields",
        json={"collection": "orders", "name": "season", "type": "text", "label": "Season"},
    )
    for name in ("customers", "orders", "payments"):
        body = company.manager_a.get(f"/api/v1/import/{name}/format").get_json()
        served = [column["name"] for column in body["columns"]]
        documented = [column.name for column in exchange_format(None, name).columns]
        extra = ["custom.season"] if name == "orders" else []
        assert served == documented + extra, name
