"""The quote and order pages: their lines with quantities shown with the configured
quantity.decimal_places (never fewer than a saved line keeps), within the reader's data scope,
in both languages."""

from __future__ import annotations

import re

import pytest

from crm_domain.access import actor_for
from crm_domain.org import create_org_unit
from crm_domain.record_service import create_record
from crm_domain.settings import update_settings


@pytest.fixture
def sale(session, make_user):
    group = create_org_unit(session, "锦华集团", "group")
    east = create_org_unit(session, "华东分公司", "branch", group.id)
    south = create_org_unit(session, "华南分公司", "branch", group.id)
    sales = make_user("salesperson", username="wang", org_unit_id=east.id)
    other = make_user("salesperson", username="chen", org_unit_id=south.id)
    admin = make_user("admin", username="root", org_unit_id=group.id)
    actor = actor_for(session, sales)
    customer = create_record(session, actor, "customers", {"name": "苏州锦程服饰有限公司"})
    lines = [
        {"description": "涤纶塔夫绸", "quantity": "1200.5", "unit_price": "12.3456"},
        {"description": "全棉府绸", "quantity": "2", "unit_price": "30", "discount_percent": "5"},
    ]
    quote = create_record(
        session,
        actor,
        "quotes",
        {"customer_id": customer.id, "quote_no": "BJ-2026-001", "lines": lines},
    )
    order = create_record(
        session,
        actor,
        "orders",
        {"customer_id": customer.id, "order_no": "SO-2026-001", "lines": lines[:1]},
    )
    session.commit()
    return {"sales": sales, "other": other, "admin": admin, "quote": quote, "order": order}


def quantities(html: str) -> list[str]:
    return re.findall(r'data-testid="line-quantity">([^<]*)<', html)


def test_quantities_show_the_configured_places_and_follow_a_change(signed_in, session, sale):
    web = signed_in(user=sale["sales"])
    listing = web.get("/quotes").text
    assert f'href="/quotes/{sale["quote"].id}" data-testid="record-link">BJ-2026-001' in listing

    page = web.get(f"/quotes/{sale['quote'].id}")
    assert page.status_code == 200
    html = page.text
    assert quantities(html) == ["1,200.500", "2.000"]  # the default: 3 places
    assert "苏州锦程服饰有限公司" in html and "明细" in html and "数量" in html
    assert "12.3456" in html and "¥14,820.89" in html  # price as given; 1200.5 × 12.3456
    assert "¥57.00" in html  # 2 × 30 less 5 %

    admin = actor_for(session, sale["admin"])
    update_settings(session, admin, {"quantity.decimal_places": 1})
    session.commit()
    assert quantities(web.get(f"/quotes/{sale['quote'].id}").text) == ["1,200.5", "2.0"]
    update_settings(session, admin, {"quantity.decimal_places": 0})
    session.commit()
    # The setting was lowered under a saved 1200.5: it is shown as kept, never rounded to
    # 1,201 (its amount is 1200.5 × the price); a whole 2 follows the setting.
    html = web.get(f"/quotes/{sale['quote'].id}").text
    assert quantities(html) == ["1,200.5", "2"]
    assert "¥14,820.89" in html
    assert quantities(web.get(f"/orders/{sale['order'].id}").text) == ["1,200.5"]


def test_the_pages_keep_to_the_data_scope_and_speak_english(signed_in, sale):
    outsider = signed_in(user=sale["other"])
    assert outsider.get(f"/quotes/{sale['quote'].id}").status_code == 404
    assert outsider.get(f"/orders/{sale['order'].id}").status_code == 404
    assert signed_in(user=sale["sales"]).get("/quotes/999999").status_code == 404

    english = signed_in(user=sale["sales"], lang="en")
    html = english.get(f"/orders/{sale['order'].id}").text
    assert "SO-2026-001" in html and "Line items" in html and "Quantity" in html
    assert "Ordered on" in html and quantities(html) == ["1,200.500"]


def test_the_quantity_message_is_said_in_the_readers_language(app):
    from web.ui.i18n import LANGUAGE_COOKIE
    from web.ui.validation_messages import translated

    message = "Enter a quantity with at most 2 decimal places."
    for lang, expected in (("zh_CN", "数量最多保留 2 位小数。"), ("en", message)):
        headers = {"Cookie": f"{LANGUAGE_COOKIE}={lang}"}
        with app.test_request_context("/quotes", headers=headers):
            assert translated(message) == expected
            assert translated("Enter a whole number.") == (
                "请输入整数。" if lang == "zh_CN" else "Enter a whole number."
            )


@pytest.mark.slow
def test_the_quote_page_in_chromium_follows_the_setting(
    browser, live_server, company_world, committed_factory, screenshot
):
    from crm_domain.users import User
    from tests.web.conftest import ui_login

    with committed_factory() as session:
        sales = session.get(User, company_world["sales"])
        quote = create_record(
            session,
            actor_for(session, sales),
            "quotes",
            {
                "customer_id": company_world["customer"],
                "quote_no": "BJ-2026-088",
                "discount_percent": "3",
                "lines": [
                    {"description": "精梳棉府绸 40支", "quantity": "1200.5", "unit_price": "23.8"},
                    {"description": "涤纶塔夫绸", "quantity": "800", "unit_price": "12.5"},
                ],
            },
        )
        session.commit()
        quote_id = quote.id
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        ui_login(page, live_server, "wang.fang")
        page.goto(f"{live_server}/quotes")
        page.click("[data-testid=record-link]")
        page.wait_for_selector("[data-testid=record-lines]")
        cells = page.locator("[data-testid=line-quantity]")
        assert cells.all_inner_texts() == ["1,200.500", "800.000"]
        screenshot(page, "quote-page-zh")
        with committed_factory() as session:
            update_settings(session, None, {"quantity.decimal_places": 1})
            session.commit()
        page.goto(f"{live_server}/quotes/{quote_id}")
        assert cells.all_inner_texts() == ["1,200.5", "800.0"]
        screenshot(page, "quote-page-one-place-zh")
    finally:
        page.close()
