"""The segment editor in real Chromium against a live server: an administrator creates a
segment over RFM figures, sees its live count and field errors next to the fields, opens its
comparison report, then targets it from a reminder rule (whose preview shows only the segment's
customers), and cannot delete it while the rule uses it. Screenshots in both languages."""

from __future__ import annotations

import pytest

from tests.web.analytics_world import build_world, ok
from tests.web.conftest import ui_login

SEGMENTS = "/api/v1/analytics/segments"


@pytest.fixture
def world(live_app, committed_factory):
    return build_world(live_app, committed_factory)


def admin_page(browser, live_server, lang="zh-CN"):
    context = browser.new_context(locale=lang, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    ui_login(page, live_server, "zhao.min")
    page.wait_for_url("**/inbox")
    return page


def count_shown(page, expected: str) -> None:
    page.wait_for_selector(f"[data-testid=segment-count-value]:text-is('{expected}')")


def test_a_segment_made_in_the_browser_is_counted_compared_and_used_by_a_reminder_rule(
    browser, live_server, world, screenshot
):
    page = admin_page(browser, live_server)
    page.goto(f"{live_server}/analytics")
    page.click("[data-testid=saved-segments]")
    page.click("[data-testid=new-segment]")
    count_shown(page, "4")  # no condition yet: every customer
    page.fill("[data-testid=segment-name-input]", "复购客户")
    page.fill("input[name='r.frequency.min']", "2")
    count_shown(page, "2")  # 苏州锦程 (3 orders) and 常州美亚 (2)
    page.fill("input[name='r.frequency.max']", "1")
    page.wait_for_selector("[data-testid=segment-count-problems]")
    page.click("[data-testid=segment-save]")
    # The server's message next to the figure's inputs; nothing saved.
    row = page.locator("[data-range=frequency]")
    assert "最小值大于最大值" in row.inner_text()
    assert row.locator("input[aria-invalid=true]").count() == 2
    assert ok(world.api["admin"].get(SEGMENTS))["items"] == []
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "segments-errors-zh")

    page.fill("input[name='r.frequency.max']", "")
    page.select_option("select[name='f.lifecycle_stage']", "prospect")
    count_shown(page, "2")
    page.click("[data-testid=segment-save]")
    page.wait_for_selector(".flash-success")
    count_shown(page, "2")
    (saved,) = ok(world.api["admin"].get(SEGMENTS))["items"]
    assert saved["name"] == "复购客户"
    assert saved["definition"] == {
        "filters": {"lifecycle_stage": "prospect"},
        "ranges": {"frequency": [2, None]},
    }
    screenshot(page, "segments-editor-zh")

    # Its comparison report lists the same two customers.
    page.click("aside [data-testid=segment-compare]")
    table = page.locator("[data-testid=segment-customers]").inner_text()
    assert "苏州锦程服饰有限公司" in table and "常州美亚制衣" in table
    assert "无锡恒丰服饰" not in table and "杭州丝路家纺" not in table

    # A reminder rule targets it: the preview shows only the segment's customers.
    page.goto(f"{live_server}/admin/rules/reminders/new")
    page.fill("input[name=name]", "复购客户久未联系")
    page.select_option("select[name=kind]", "no_contact")
    page.select_option("select[name=collection]", "customers")
    page.fill("input[name=date_field]", "")
    page.fill("[data-testid=rule-days]", "5")
    page.fill("textarea[name=message_zh]", "{customer.name} 已 {days} 天未联系")
    page.wait_for_selector("[data-testid=preview-total]:text-is('4 条提醒')")  # everyone, for now
    page.select_option("[data-testid=rule-segment]", label="复购客户")
    page.wait_for_selector("[data-testid=preview-segment]")
    page.wait_for_selector("[data-testid=preview-total]:text-is('2 条提醒')")
    assert "复购客户" in page.inner_text("[data-testid=preview-segment]")
    screenshot(page, "segments-reminder-rule-zh")
    page.click("[data-testid=rule-save]")
    page.wait_for_selector(".flash-success")
    (rule,) = ok(world.api["admin"].get("/api/v1/admin/reminder-rules"))["items"]
    assert rule["filters"] == {"segment": saved["id"]}
    assert page.locator("[data-testid=rule-segment] option:checked").inner_text() == "复购客户"

    # While the rule uses it, the segment stays; the page says which rule.
    page.goto(f"{live_server}/analytics/saved-segments/{saved['id']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=segment-delete]")
    page.wait_for_selector(".flash-error")
    assert "复购客户久未联系" in page.inner_text(".flash-error")
    assert len(ok(world.api["admin"].get(SEGMENTS))["items"]) == 1

    # The list, in English.
    page.click("[data-testid=lang-en]")
    page.goto(f"{live_server}/analytics/saved-segments")
    row = page.locator("[data-testid=segment-row]")
    assert row.locator("[data-testid=segment-count]").inner_text() == "2"
    assert "复购客户久未联系" in row.inner_text()
    screenshot(page, "segments-list-en")
    page.click("[data-testid=segment-name]")
    count_shown(page, "2")
    assert "Ranges of the computed figures" in page.content()
    screenshot(page, "segments-editor-en")


def test_a_salesperson_counts_only_her_own_customers(browser, live_server, world, screenshot):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    ui_login(page, live_server, "liu.yang")
    page.wait_for_url("**/inbox")
    page.goto(f"{live_server}/analytics/saved-segments/new")
    count_shown(page, "1")  # only 杭州丝路家纺 is hers
    page.fill("input[name='f.region']", "江苏 苏州")
    count_shown(page, "0")
    page.goto(f"{live_server}/analytics/saved-segments")
    assert page.locator("[data-testid=segment-row]").count() == 0
    screenshot(page, "segments-list-salesperson-zh")
