"""New/edit pages for customers and contacts through real HTTP (Flask's test client, signed in
through the login form): saves go through the record service, errors sit next to their fields
with the input kept, a stale version is refused kindly, and the data scope holds."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm_domain.access import actor_for
from crm_domain.custom_fields import define_field
from crm_domain.customers import Contact, Customer
from crm_domain.org import create_org_unit
from crm_domain.record_service import create_record, update_record


@pytest.fixture
def world(session, make_user):
    group = create_org_unit(session, "锦华集团", "group")
    east = create_org_unit(session, "华东分公司", "branch", group.id)
    south = create_org_unit(session, "华南分公司", "branch", group.id)
    sales = make_user("salesperson", username="wang", org_unit_id=east.id)
    other = make_user("salesperson", username="chen", org_unit_id=south.id)
    manager = make_user("sales_manager", username="li", org_unit_id=group.id)
    define_field(
        session,
        "customers",
        {
            "name": "factory_size",
            "type": "choice",
            "label": {"zh": "工厂规模", "en": "Factory size"},
            "required": True,
            "choices": [
                {"value": "small", "label": {"zh": "小型", "en": "Small"}},
                {"value": "medium", "label": {"zh": "中型", "en": "Medium"}},
                {"value": "large", "label": {"zh": "大型", "en": "Large"}},
            ],
        },
    )
    define_field(
        session,
        "customers",
        {"name": "bank_pin", "type": "text", "label": {"zh": "网银口令", "en": "Bank PIN"}},
        sensitive=True,
    )
    customer = create_record(
        session,
        actor_for(session, sales),
        "customers",
        {
            "name": "苏州锦程服饰有限公司",
            "region": "江苏 苏州",
            "tax_id": "91320500MA1234567X",
            "custom": {"factory_size": "medium", "bank_pin": "88997766"},
        },
    )
    session.commit()
    return {"sales": sales, "other": other, "manager": manager, "customer": customer}


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_new_customer_form_shows_built_in_and_custom_fields(signed_in, world):
    web = signed_in(user=world["sales"])
    assert 'data-testid="new-customer"' in web.get("/customers").text
    page = web.get("/customers/new")
    assert page.status_code == 200
    html = page.text
    assert "新建客户" in html and 'name="csrf_token"' in html
    assert "客户名称" in html and "地区" in html  # labels of the import/export format
    assert "工厂规模" in html and "中型" in html  # the admin's custom choice field
    assert 'data-field="custom.factory_size"' in html
    # sensitive fields this salesperson may not see are not offered at all
    assert 'name="tax_id"' not in html and 'name="bank_account"' not in html
    assert "custom.bank_pin" not in html


def test_create_customer_saves_through_the_record_service(signed_in, session, world):
    web = signed_in(user=world["sales"])
    web.get("/customers/new")
    response = web.post(
        "/customers/new",
        {
            "name": "无锡华美家纺",
            "kind": "company",
            "region": "江苏 无锡",
            "credit_limit": "50000",
            "custom.factory_size": "large",
        },
    )
    assert response.status_code == 302, response.text
    customer = session.scalar(select(Customer).where(Customer.name == "无锡华美家纺"))
    assert response.headers["Location"].endswith(f"/customers/{customer.id}")
    assert customer.owner_id == world["sales"].id  # owned by who made it
    assert str(customer.credit_limit) == "50000.00"
    assert customer.custom["factory_size"] == "large"
    assert "客户已保存" in web.get(response.headers["Location"]).text


def test_invalid_customer_shows_errors_next_to_fields_and_keeps_input(signed_in, session, world):
    web = signed_in(user=world["sales"])
    web.get("/customers/new")
    response = web.post(
        "/customers/new",
        {"name": "", "region": "浙江 绍兴", "email": "not-an-email", "credit_limit": "abc"},
    )
    assert response.status_code == 422
    html = response.text
    assert "未保存" in html
    for field in ("name", "email", "credit_limit", "custom.factory_size"):
        block = re.search(rf'data-field="{re.escape(field)}">(.*?)</div>', html, re.S).group(1)
        assert "field-error" in block, field
    assert 'value="浙江 绍兴"' in html and 'value="not-an-email"' in html  # input kept
    assert session.scalar(select(Customer).where(Customer.region == "浙江 绍兴")) is None


def test_edit_customer_with_the_loaded_version(signed_in, session, world):
    web = signed_in(user=world["sales"])
    customer_id = world["customer"].id
    assert 'data-testid="edit-customer"' in web.get(f"/customers/{customer_id}").text
    page = web.get(f"/customers/{customer_id}/edit")
    assert page.status_code == 200
    assert 'value="苏州锦程服饰有限公司"' in page.text
    assert 'value="medium" selected' in page.text or 'value="medium" checked' in page.text
    response = web.post(
        f"/customers/{customer_id}/edit",
        {
            "version": _version(page.text),
            "name": "苏州锦程服饰有限公司",
            "region": "江苏 昆山",
            "custom.factory_size": "large",
        },
    )
    assert response.status_code == 302, response.text
    session.expire_all()
    customer = session.get(Customer, customer_id)
    assert customer.region == "江苏 昆山" and customer.custom["factory_size"] == "large"
    # hidden sensitive values were not sent, so they are untouched
    assert customer.tax_id == "91320500MA1234567X" and customer.custom["bank_pin"] == "88997766"


def test_stale_version_is_refused_with_a_reload_link_and_input_kept(signed_in, session, world):
    web = signed_in(user=world["sales"])
    customer_id = world["customer"].id
    page = web.get(f"/customers/{customer_id}/edit")
    loaded = _version(page.text)
    update_record(  # a colleague saves meanwhile
        session,
        actor_for(session, world["manager"]),
        "customers",
        customer_id,
        {"notes": "经理改过"},
        int(loaded),
    )
    session.commit()
    response = web.post(
        f"/customers/{customer_id}/edit",
        {"version": loaded, "name": "苏州锦程", "region": "上海", "custom.factory_size": "small"},
    )
    assert response.status_code == 409
    html = response.text
    assert 'data-testid="stale-notice"' in html and "其他人修改了它" in html
    assert f'href="/customers/{customer_id}/edit"' in html  # reload link
    assert 'value="上海"' in html  # the user's input is still there
    assert f'name="version" value="{loaded}"' in html  # resaving cannot overwrite the colleague
    session.expire_all()
    customer = session.get(Customer, customer_id)
    assert customer.region == "江苏 苏州" and customer.notes == "经理改过"


def test_another_branch_cannot_edit_the_customer(signed_in, session, world):
    web = signed_in(user=world["other"])
    customer_id = world["customer"].id
    assert web.get(f"/customers/{customer_id}/edit").status_code == 404
    response = web.post(
        f"/customers/{customer_id}/edit",
        {"version": "1", "name": "改名", "custom.factory_size": "small"},
    )
    assert response.status_code == 404
    assert web.get(f"/customers/{customer_id}/contacts/new").status_code == 404
    session.expire_all()
    assert session.get(Customer, customer_id).name == "苏州锦程服饰有限公司"


def test_manager_with_the_grant_may_edit_sensitive_fields(signed_in, world):
    web = signed_in(user=world["manager"])
    html = web.get(f"/customers/{world['customer'].id}/edit").text
    assert 'value="91320500MA1234567X"' in html and 'value="88997766"' in html


def test_contact_new_and_edit_from_the_customer_page(signed_in, session, world):
    web = signed_in(user=world["sales"])
    customer_id = world["customer"].id
    assert 'data-testid="new-contact"' in web.get(f"/customers/{customer_id}").text
    form = web.get(f"/customers/{customer_id}/contacts/new")
    assert form.status_code == 200 and "联系人" in form.text
    bad = web.post(f"/customers/{customer_id}/contacts/new", {"name": "", "mobile": "138"})
    assert bad.status_code == 422 and 'value="138"' in bad.text
    good = web.post(
        f"/customers/{customer_id}/contacts/new",
        {"name": "赵敏", "mobile": "13800001111", "role": "purchaser", "is_primary": "on"},
    )
    assert good.status_code == 302
    contact = session.scalar(select(Contact).where(Contact.name == "赵敏"))
    assert contact.customer_id == customer_id and contact.is_primary and contact.role == "purchaser"
    page = web.get(f"/contacts/{contact.id}/edit")
    assert page.status_code == 200 and 'value="13800001111"' in page.text
    saved = web.post(
        f"/contacts/{contact.id}/edit",
        {
            "version": _version(page.text),
            "name": "赵敏",
            "mobile": "13900002222",
            "role": "finance",
        },
    )
    assert saved.status_code == 302
    session.expire_all()
    contact = session.get(Contact, contact.id)
    assert contact.mobile == "13900002222" and contact.is_primary is False  # unchecked box
    other = signed_in(user=world["other"])
    assert other.get(f"/contacts/{contact.id}/edit").status_code == 404


def test_form_in_english(signed_in, world):
    web = signed_in(user=world["sales"], lang="en")
    html = web.get("/customers/new").text
    assert "New customer" in html and "Factory size" in html and "Name" in html
