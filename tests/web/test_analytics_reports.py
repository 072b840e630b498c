"""The customer profile report (seven angles) and the segment comparison in real Chromium:
reachable from the customer page, the same figures as the API, within the viewer's scope, and
a clear answer (not a 500) for customers or segments the viewer may not see."""

from __future__ import annotations

import csv
import io

import pytest

from tests.web.analytics_world import build_world, ok
from tests.web.conftest import ui_login


@pytest.fixture
def world(live_app, committed_factory):
    return build_world(live_app, committed_factory)


def signed_in_page(browser, live_server, username, lang="zh-CN"):
    page = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900}).new_page()
    ui_login(page, live_server, username)
    page.wait_for_url("**/inbox")
    return page


def test_the_profile_report_shows_seven_angles_from_the_customer_page(
    browser, live_server, world, screenshot
):
    customer_id = world.customers["苏州锦程服饰有限公司"]
    page = signed_in_page(browser, live_server, "wang.fang")
    page.goto(f"{live_server}/customers/{customer_id}")
    page.click("[data-testid=profile-report]")
    page.wait_for_selector("[data-testid=angles]")
    for angle in ("profile", "loyalty", "profitability", "performance", "prospects"):
        assert page.locator(f"[data-testid=angle-{angle}]").count() == 1
    assert "购买的产品" in page.locator("[data-testid=angle-products]").inner_text()
    assert "对营销活动的响应" in page.locator("[data-testid=angle-campaigns]").inner_text()
    api = ok(world.api["wang"].get(f"/api/v1/analytics/customers/{customer_id}/profile"))
    assert api["loyalty"]["orders"] == 3
    loyalty = page.locator("[data-testid=angle-loyalty] dd").all_inner_texts()
    assert loyalty[3] == "3"  # first order, last order, years as a buyer, orders
    sales = page.locator("[data-testid=angle-profitability]").inner_text()
    assert "128,000" in sales  # 30,000 + 42,000 + 56,000
    with page.expect_download() as download:
        page.click("[data-testid=profile-csv]")
    with open(download.value.path(), encoding="utf-8-sig") as f:
        rows = {(r["angle"], r["key"]): r["value"] for r in csv.DictReader(f)}
    assert rows[("loyalty", "orders")] == "3"
    assert float(rows[("profitability", "sales")]) == api["profitability"]["sales"]
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "analytics-profile-zh")


def test_a_customer_outside_my_scope_has_no_profile_report(browser, live_server, world):
    page = signed_in_page(browser, live_server, "wang.fang")
    theirs = world.customers["杭州丝路家纺"]
    assert page.goto(f"{live_server}/analytics/customers/{theirs}").status == 404
    assert page.goto(f"{live_server}/analytics/customers/{theirs}.csv").status == 404
    assert page.goto(f"{live_server}/analytics/customers/999999").status == 404


def test_segment_comparison_of_a_saved_segment(browser, live_server, world, screenshot):
    body = {"name": "复购客户", "definition": {"ranges": {"frequency": [2, None]}}}
    segment = ok(world.api["admin"].post("/api/v1/analytics/segments", json=body), 201)
    page = signed_in_page(browser, live_server, "zhao.min")
    page.goto(f"{live_server}/analytics")
    page.click("text=细分对比")
    page.select_option("[data-testid=segment-choice]", label="复购客户")
    page.click("[data-testid=segment-show]")
    page.wait_for_selector("[data-testid=segment-customers]")
    table = page.locator("[data-testid=segment-customers]").inner_text()
    assert "苏州锦程服饰有限公司" in table and "常州美亚制衣" in table
    assert "无锡恒丰服饰" not in table and "杭州丝路家纺" not in table  # one order each
    api = world.api["admin"].get(
        f"/api/v1/analytics/segments/{segment['id']}/comparison?format=csv&per_page=200"
    )
    with page.expect_download() as download:
        page.click("[data-testid=segment-csv]")
    with open(download.value.path(), encoding="utf-8") as f:
        downloaded = list(csv.reader(f))
    assert downloaded == list(csv.reader(io.StringIO(api.get_data(as_text=True))))
    screenshot(page, "analytics-segment-zh")
    # a made-up or someone else's segment id: a page that says so, not a crash
    assert page.goto(f"{live_server}/analytics/segments?segment_id=abc").status == 200
    assert "请选择一个已保存的细分" in page.content()
    assert page.goto(f"{live_server}/analytics/segments?segment_id=99999").status == 404


def test_recompute_needs_the_grant_and_unknown_jobs_are_not_found(signed_in):
    web = signed_in("salesperson")
    assert web.get("/analytics").status_code == 200
    assert 'data-testid="recompute"' not in web.get("/analytics").text
    assert web.post("/analytics/recompute", headers={"HX-Request": "true"}).status_code == 403
    assert web.get("/analytics/jobs/999999").status_code == 404
