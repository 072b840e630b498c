"""The analytics dashboard in real Chromium: every chart is drawn by Chart.js from the viewer's
scoped figures, each CSV download carries the same figures as the REST API, a salesperson sees
only their own scope, and the recompute button shows the job's progress until it finishes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.web.analytics_world import build_world
from tests.web.conftest import ui_login

CHARTS = (
    "value-matrix",
    "rfm",
    "grades",
    "grade-history",
    "funnel",
    "forecast",
    "plan",
    "ageing",
    "service",
    "sla",
    "defects",
    "satisfaction",
)
# The chart's data as Chart.js holds it: (labels, each dataset's data)
CHART_DATA = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  if (!chart) return null;
  return {labels: chart.data.labels || [], sets: chart.data.datasets.map(d => d.data)};
}"""


@pytest.fixture
def world(live_app, committed_factory):
    return build_world(live_app, committed_factory)


def open_dashboard(browser, live_server, username, lang="zh-CN"):
    context = browser.new_context(locale=lang, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    ui_login(page, live_server, username)
    page.wait_for_url("**/inbox")
    page.goto(f"{live_server}/analytics")
    page.wait_for_selector("canvas[data-chart-ready=true]")
    return page


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def downloaded_rows(download) -> list[list[str]]:
    return rows_of(Path(download.value.path()).read_text(encoding="utf-8"))


def test_the_dashboard_draws_every_chart_with_data(browser, live_server, world, screenshot):
    page = open_dashboard(browser, live_server, "zhao.min")
    for key in CHARTS:
        assert page.locator(f"canvas#chart-{key}[data-chart-ready=true]").count() == 1, key
    matrix = page.evaluate(CHART_DATA, "chart-value-matrix")
    plotted = sorted(p["name"] for points in matrix["sets"] for p in points)
    assert plotted == ["常州美亚制衣", "无锡恒丰服饰", "杭州丝路家纺", "苏州锦程服饰有限公司"]
    funnel = page.evaluate(CHART_DATA, "chart-funnel")
    assert funnel["sets"] == [[7, 5, 4, 3, 2]]  # wang: 6 opportunities, liu: 1 won
    ageing = page.evaluate(CHART_DATA, "chart-ageing")
    assert ageing["sets"] == [[20000, 0, 50000, 0, 12000]]
    assert page.evaluate(CHART_DATA, "chart-defects")["sets"] == [[3]]
    assert page.evaluate(CHART_DATA, "chart-sla")["sets"] == [[1, 1, 1]]
    assert page.evaluate(CHART_DATA, "chart-satisfaction")["sets"] == [[0, 0, 1, 0, 1]]
    assert "重点保持" in page.locator("[data-testid=strategies]").inner_text()
    # the accessible table carries the same figures as the chart
    page.click("[data-testid=ageing] summary")
    assert "超过90天" in page.locator("#chart-ageing-table").inner_text()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of the shot
    screenshot(page, "analytics-dashboard-zh")


def test_each_csv_download_matches_the_api(browser, live_server, world):
    page = open_dashboard(browser, live_server, "zhao.min")
    api = world.api["admin"]
    for key, path in (
        ("value-matrix", "/api/v1/analytics/value-matrix?format=csv"),
        ("funnel", "/api/v1/analytics/sales/funnel?format=csv"),
        ("forecast", "/api/v1/analytics/sales/forecast?format=csv"),
        ("plan", "/api/v1/analytics/sales/plan?format=csv"),
        ("ageing", "/api/v1/analytics/sales/receivables-ageing?format=csv"),
        ("grades", "/api/v1/analytics/grades?format=csv"),
        ("service", "/api/v1/analytics/service?format=csv"),
        ("defects", "/api/v1/analytics/service?format=csv&table=top_defects"),
    ):
        with page.expect_download() as download:
            page.click(f"[data-testid={key}-csv]")
        downloaded = downloaded_rows(download)
        from_api = rows_of(api.get(path).get_data(as_text=True))
        assert downloaded == from_api, key
        assert len(downloaded) > 1, key


def test_a_salesperson_sees_only_their_scope(browser, live_server, world, screenshot):
    page = open_dashboard(browser, live_server, "wang.fang", lang="en-US")
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("canvas[data-chart-ready=true]")
    matrix = page.evaluate(CHART_DATA, "chart-value-matrix")
    plotted = sorted(p["name"] for points in matrix["sets"] for p in points)
    assert plotted == ["常州美亚制衣", "无锡恒丰服饰", "苏州锦程服饰有限公司"]  # not liu's
    assert page.evaluate(CHART_DATA, "chart-ageing")["sets"] == [[20000, 0, 0, 0, 12000]]
    assert page.evaluate(CHART_DATA, "chart-funnel")["sets"] == [[6, 4, 3, 2, 1]]
    plan = page.evaluate(CHART_DATA, "chart-plan")
    assert len(plan["labels"]) == 1 and plan["labels"][0].startswith("王芳")
    assert page.locator("[data-testid=recompute]").count() == 0  # no manage_settings grant
    with page.expect_download() as download:
        page.click("[data-testid=ageing-csv]")
    rows = downloaded_rows(download)
    assert rows[-1] == ["over_90", "1", "12000.0"]
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "analytics-dashboard-salesperson-en")


def test_the_recompute_button_shows_progress_until_done(browser, live_server, world):
    page = open_dashboard(browser, live_server, "zhao.min")
    page.click("[data-testid=recompute]")
    page.wait_for_selector("[data-testid=recompute-job]")
    page.wait_for_selector("[data-testid=recompute-job][data-status=succeeded]", timeout=30000)
    assert "重新计算完成" in page.locator("[data-testid=recompute-job]").inner_text()
