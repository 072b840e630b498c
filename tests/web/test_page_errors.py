"""A page for a record that is missing, outside the reader's scope or not theirs to see or change
answers with the workspace's error page (404 or 403, in the reader's language), never JSON or a
traceback: the page views let the services' NotFound / Forbidden propagate to one handler
(web/ui/error_pages.py). The API keeps its JSON errors for the same refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_domain.access import actor_for
from crm_domain.analytics.segments import create_segment
from crm_domain.custom_fields import archive_field, define_field
from crm_domain.customers import Contact, Customer
from crm_domain.org import create_org_unit
from crm_domain.record_service import create_record

MISSING = 999999
NOT_FOUND = {"zh": "页面不存在。", "en": "Page not found."}
NO_ACCESS = {"zh": "您无权访问此页面。", "en": "You do not have access to this page."}


@pytest.fixture
def world(session, make_user):
    """A salesperson's customer with a contact, a quote, an order and a saved segment; a
    salesperson of another branch (outside her scope), an executive (reads everything, changes
    nothing) and a process designer (may not read customers at all)."""
    group = create_org_unit(session, "锦华集团", "group")
    east = create_org_unit(session, "华东分公司", "branch", group.id)
    south = create_org_unit(session, "华南分公司", "branch", group.id)
    sales = make_user("salesperson", username="wang", org_unit_id=east.id)
    actor = actor_for(session, sales)
    customer = create_record(session, actor, "customers", {"name": "苏州锦程服饰有限公司"})
    contact = create_record(
        session, actor, "contacts", {"name": "张伟", "customer_id": customer.id}
    )
    line = {"description": "涤纶塔夫绸", "quantity": "10", "unit_price": "12"}
    quote = create_record(
        session,
        actor,
        "quotes",
        {"customer_id": customer.id, "quote_no": "BJ-2026-001", "lines": [line]},
    )
    order = create_record(
        session,
        actor,
        "orders",
        {"customer_id": customer.id, "order_no": "SO-2026-001", "lines": [line]},
    )
    segment = create_segment(
        session, actor, {"name": "A 级客户", "definition": {"filters": {"grade": "A"}}}
    )
    session.commit()
    return {
        "sales": sales,
        "other": make_user("salesperson", username="chen", org_unit_id=south.id),
        "executive": make_user("executive", username="zhao", org_unit_id=group.id),
        "designer": make_user("process_designer", username="design", org_unit_id=group.id),
        "customer": customer.id,
        "contact": contact.id,
        "quote": quote.id,
        "order": order.id,
        "segment": segment.id,
    }


def record_urls(ids: dict) -> list[str]:
    """One URL of each kind of page that reads a record by its id."""
    return [
        f"/quotes/{ids['quote']}",
        f"/orders/{ids['order']}",
        f"/customers/{ids['customer']}",
        f"/customers/{ids['customer']}/edit",
        f"/customers/{ids['customer']}/contacts/new",
        f"/contacts/{ids['contact']}/edit",
        f"/analytics/saved-segments/{ids['segment']}",
        f"/analytics/customers/{ids['customer']}",
        f"/analytics/customers/{ids['customer']}.csv",
    ]


def missing_ids() -> dict:
    return dict.fromkeys(("quote", "order", "customer", "contact", "segment"), MISSING)


def assert_error_page(response, status: int, message: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.mimetype == "text/html" and not response.is_json
    html = response.text
    assert 'class="notice-card"' in html and f"<h1>{message}</h1>" in html
    assert "Traceback" not in html and '"error":' not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_record_is_the_not_found_page(signed_in, world, lang):
    web = signed_in(user=world["sales"], lang="en" if lang == "en" else None)
    for url in record_urls(missing_ids()):
        assert_error_page(web.get(url), 404, NOT_FOUND[lang])


def test_a_record_outside_the_readers_scope_is_the_not_found_page(signed_in, world):
    web = signed_in(user=world["other"])
    for url in record_urls(world):
        assert_error_page(web.get(url), 404, NOT_FOUND["zh"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_role_that_may_not_read_the_records_gets_the_no_access_page(signed_in, world, lang):
    web = signed_in(user=world["designer"], lang="en" if lang == "en" else None)
    for url in record_urls(world):
        assert_error_page(web.get(url), 403, NO_ACCESS[lang])


def test_a_reader_who_may_not_change_the_record_gets_the_no_access_page(signed_in, session, world):
    web = signed_in(user=world["executive"])
    assert web.get(f"/customers/{world['customer']}").status_code == 200  # she may read it
    for url in (f"/customers/{world['customer']}/edit", f"/contacts/{world['contact']}/edit"):
        assert_error_page(web.get(url), 403, NO_ACCESS["zh"])
        assert_error_page(web.post(url, {"version": "1", "name": "改名"}), 403, NO_ACCESS["zh"])
    refused = web.post(f"/customers/{world['customer']}/contacts/new", {"name": "李娜"})
    assert_error_page(refused, 403, NO_ACCESS["zh"])
    session.expire_all()
    assert session.get(Customer, world["customer"]).name == "苏州锦程服饰有限公司"
    assert session.get(Contact, world["contact"]).name == "张伟"
    assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_saving_a_missing_record_is_the_not_found_page(signed_in, world):
    web = signed_in(user=world["sales"])
    for url, form in (
        (f"/customers/{MISSING}/edit", {"version": "1", "name": "改名"}),
        (f"/contacts/{MISSING}/edit", {"version": "1", "name": "改名"}),
        (f"/customers/{MISSING}/contacts/new", {"name": "李娜"}),
        (f"/customers/{MISSING}/interactions", {"channel": "phone"}),
        (f"/analytics/saved-segments/{MISSING}", {"name": "改名"}),
        (f"/analytics/saved-segments/{MISSING}/delete", {}),
        (f"/analytics/saved-segments/count?segment_id={MISSING}", {}),
    ):
        assert_error_page(web.post(url, form), 404, NOT_FOUND["zh"])


def test_the_api_answers_the_same_refusals_in_json(api_as, world):
    sales = api_as(user=world["sales"])
    missing = sales.get(f"/api/v1/customers/{MISSING}")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    refused = api_as(user=world["designer"]).get(f"/api/v1/customers/{world['customer']}")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"


def test_a_segment_whose_field_was_archived_is_a_page_not_json(
    signed_in, session, make_user, world
):
    """Its comparison page says the segment no longer works (with a link to mend it); its CSV,
    which has no page to say it on, is the error page with the service's reason."""
    admin = actor_for(session, make_user("admin", username="root"))
    channel = {
        "name": "channel",
        "type": "choice",
        "label": {"zh": "销售渠道", "en": "Sales channel"},
        "choices": [{"value": "direct", "label": {"zh": "直销", "en": "Direct"}}],
    }
    field = define_field(session, "customers", channel, False, actor=admin)
    segment = create_segment(
        session,
        actor_for(session, world["sales"]),
        {"name": "直销客户", "definition": {"filters": {"custom.channel": "direct"}}},
    )
    archive_field(session, field.id, actor=admin)
    session.commit()

    web = signed_in(user=world["sales"])
    page = web.get(f"/analytics/segments?segment_id={segment.id}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    notice = page.text.split('class="field-error" role="alert">')[1].split("</small>")[0]
    assert "此细分已失效；请用有效的条件重新保存。" in notice
    assert f"/analytics/saved-segments/{segment.id}" in notice  # the editor, to mend it
    assert_error_page(web.get(f"/analytics/segments/{segment.id}.csv"), 422, "部分筛选条件无效。")
