"""The analytics dashboard page: the charts a user's role may see, in Chinese, each with a CSV
download that carries the same figures, within the user's data scope."""

from __future__ import annotations

from datetime import date

from crm_domain.customers import Customer
from crm_domain.orders import Receivable, SalesOrder


def test_dashboard_shows_the_figures_of_my_scope_with_csv_downloads(signed_in, session):
    web = signed_in("salesperson", lang="zh_CN")
    other = signed_in("salesperson")
    customer = Customer(name="苏州锦华纺织", owner_id=web.user.id, custom={}, tags=[])
    session.add(customer)
    session.flush()
    order = SalesOrder(
        customer_id=customer.id,
        order_no="SO-DASH-1",
        ordered_on=date(2026, 1, 5),
        total=5000,
        owner_id=web.user.id,
        custom={},
    )
    session.add(order)
    session.flush()

    session.add(
        Receivable(
            order_id=order.id,
            customer_id=customer.id,
            due_on=date(2020, 1, 1),
            amount=1200,
            paid_amount=0,
            owner_id=web.user.id,
            custom={},
        )
    )
    session.commit()

    page = web.get("/analytics")
    assert page.status_code == 200
    html = page.text
    assert "客户价值分析" in html and "应收账龄" in html and "销售漏斗" in html
    assert 'data-testid="service"' in html  # salespeople read their service requests
    csv = web.get("/analytics/ageing.csv")
    assert csv.mimetype == "text/csv"
    rows = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[0] == "bucket,count,open_amount" and rows[-1] == "over_90,1,1200.0"
    theirs = other.get("/analytics/ageing.csv").get_data(as_text=True).splitlines()
    assert theirs[-1] == "over_90,0,0.0"  # someone else's receivable is not in their figures
    assert web.get("/analytics/nothing.csv").status_code == 404


def test_a_role_without_sales_records_sees_no_sales_charts(signed_in):
    web = signed_in("process_designer")
    html = web.get("/analytics").text
    assert 'data-testid="funnel"' not in html and 'data-testid="ageing"' not in html
    assert web.get("/analytics/funnel.csv").status_code == 403
