"""Customer 360, record lists with export, and the process instance page through real HTTP
(Flask's test client, signed in through the login form) on the test database."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm_domain.access import actor_for
from crm_domain.custom_fields import define_field
from crm_domain.org import create_org_unit
from crm_domain.record_service import create_record
from engine.models import HumanTask, ProcessInstance
from engine.tasks import claim_task, complete_task
from tests.web.conftest import deploy_approval


@pytest.fixture
def world(session, make_user):
    """An office with a salesperson and a peer, another branch, a manager; customers in each."""
    group = create_org_unit(session, "锦华集团", "group")
    east = create_org_unit(session, "华东分公司", "branch", group.id)
    south = create_org_unit(session, "华南分公司", "branch", group.id)
    sales = make_user("salesperson", username="wang", org_unit_id=east.id)
    other = make_user("salesperson", username="chen", org_unit_id=south.id)
    manager = make_user("sales_manager", username="li", org_unit_id=group.id)
    admin = make_user("admin", username="root", org_unit_id=group.id)
    define_field(
        session,
        "customers",
        {"name": "wechat_group", "type": "text", "label": {"zh": "微信群", "en": "WeChat group"}},
    )
    define_field(
        session,
        "customers",
        {"name": "bank_pin", "type": "text", "label": {"zh": "网银口令", "en": "Bank PIN"}},
        sensitive=True,
    )
    as_sales = actor_for(session, sales)
    jincheng = create_record(
        session,
        as_sales,
        "customers",
        {
            "name": "苏州锦程服饰有限公司",
            "grade": "A",
            "region": "江苏 苏州",
            "lifecycle_stage": "active",
            "tax_id": "91320500MA1234567X",
            "custom": {"wechat_group": "锦程-采购群", "bank_pin": "88997766"},
        },
    )
    create_record(
        session,
        as_sales,
        "customers",
        {
            "name": "无锡华美家纺",
            "grade": "B",
            "region": "江苏 无锡",
            "lifecycle_stage": "prospect",
        },
    )
    create_record(
        session,
        actor_for(session, other),
        "customers",
        {"name": "广州南方制衣", "grade": "A", "region": "广东 广州"},
    )
    create_record(
        session,
        as_sales,
        "contacts",
        {"customer_id": jincheng.id, "name": "赵敏", "mobile": "13800001111", "is_primary": True},
    )
    create_record(
        session,
        as_sales,
        "interactions",
        {"customer_id": jincheng.id, "channel": "visit", "summary": "上门拜访，看了春季新面料"},
    )
    deploy_approval(session)
    session.commit()
    return {
        "sales": sales,
        "other": other,
        "manager": manager,
        "admin": admin,
        "customer": jincheng,
    }


def _quote_through_approval(session, world) -> ProcessInstance:
    from engine.instances import start_instance

    instance = start_instance(
        session,
        world["sales"],
        "quote_discount_approval",
        subject={"type": "customer", "id": world["customer"].id},
    )
    task = _open(session, instance.id, "prepare_quote")
    claim_task(session, world["sales"], task.id)
    complete_task(
        session,
        world["sales"],
        task.id,
        {
            "customer_name": "苏州锦程服饰有限公司",
            "product": "精梳棉府绸 40支",
            "list_price": 100,
            "quoted_price": 80,
        },
    )
    approval = _open(session, instance.id, "manager_approval")
    claim_task(session, world["manager"], approval.id)
    complete_task(
        session, world["manager"], approval.id, {"decision": "approve", "comment": "同意"}
    )
    session.commit()
    return instance


def _open(session, instance_id: int, bpmn_id: str) -> HumanTask:
    return session.scalar(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == bpmn_id,
            HumanTask.status == "open",
        )
    )


# --- customer 360 --------------------------------------------------------------------------


def test_customer_page_shows_profile_contacts_and_the_whole_story(signed_in, session, world):
    instance = _quote_through_approval(session, world)
    web = signed_in(user=world["sales"])
    page = web.get(f"/customers/{world['customer'].id}")
    assert page.status_code == 200
    html = page.text
    assert "苏州锦程服饰有限公司" in html and "合作中" in html  # stage in Chinese
    assert "锦程-采购群" in html  # a custom field, labelled from its definition
    assert "微信群" in html
    assert "88997766" not in html and "****7766" in html  # sensitive custom field masked
    assert "91320500MA1234567X" not in html  # sensitive built-in field masked
    assert "赵敏" in html and "13800001111" in html
    assert "上门拜访，看了春季新面料" in html  # interaction on the timeline
    assert "流程已完成" in html and "任务已完成" in html  # process events
    assert f"/instances/{instance.id}" in html


def test_manager_with_the_grant_sees_sensitive_fields(signed_in, world):
    web = signed_in(user=world["manager"])
    html = web.get(f"/customers/{world['customer'].id}").text
    assert "88997766" in html and "91320500MA1234567X" in html


def test_customer_outside_the_data_scope_is_not_found(signed_in, world):
    web = signed_in(user=world["other"])
    page = web.get(f"/customers/{world['customer'].id}")
    assert page.status_code == 404
    assert "苏州锦程" not in page.text and "页面不存在" in page.text


def test_log_interaction_inline_with_errors_next_to_fields(signed_in, session, world):
    web = signed_in(user=world["sales"])
    customer_id = world["customer"].id
    web.get(f"/customers/{customer_id}")
    htmx = {"HX-Request": "true", "HX-Target": "story"}
    bad = web.post(
        f"/customers/{customer_id}/interactions",
        {"channel": "pigeon", "direction": "outbound", "summary": ""},
        headers=htmx,
    )
    assert bad.status_code == 200  # htmx swaps the form back in place
    assert 'class="interaction-form errors"' in bad.text
    assert "此项为必填项" in bad.text  # summary
    assert "请从列出的选项中选择" in bad.text or "请选择列出的选项之一" in bad.text
    assert "<html" not in bad.text  # a fragment, not a page
    good = web.post(
        f"/customers/{customer_id}/interactions",
        {"channel": "phone", "direction": "inbound", "summary": "客户来电询问交期"},
        headers=htmx,
    )
    assert good.status_code == 200
    assert "客户来电询问交期" in good.text and 'data-testid="interaction-saved"' in good.text
    page = web.get(f"/customers/{customer_id}").text
    assert "客户来电询问交期" in page


def test_log_interaction_without_javascript_answers_422_with_input_kept(signed_in, world):
    web = signed_in(user=world["sales"])
    customer_id = world["customer"].id
    response = web.post(
        f"/customers/{customer_id}/interactions",
        {"channel": "phone", "direction": "outbound", "summary": " "},
    )
    assert response.status_code == 422
    assert "此项为必填项" in response.text and "<html" in response.text


def test_start_a_process_for_the_customer(signed_in, session, world):
    web = signed_in(user=world["sales"])
    customer_id = world["customer"].id
    web.get(f"/customers/{customer_id}")
    response = web.post(
        f"/customers/{customer_id}/processes", {"process_key": "quote_discount_approval"}
    )
    assert response.status_code == 302 and "/instances/" in response.headers["Location"]
    instance = session.scalar(select(ProcessInstance).order_by(ProcessInstance.id.desc()))
    assert (instance.subject_type, instance.subject_id) == ("customer", str(customer_id))
    missing = web.post(f"/customers/{customer_id}/processes", {"process_key": "no_such"})
    assert missing.status_code == 302
    assert "no_such" in web.get(f"/customers/{customer_id}").text


# --- lists ---------------------------------------------------------------------------------


def test_customer_list_searches_filters_and_keeps_to_the_scope(signed_in, world):
    web = signed_in(user=world["sales"])
    everything = web.get("/customers").text
    assert "苏州锦程服饰有限公司" in everything and "无锡华美家纺" in everything
    assert "广州南方制衣" not in everything  # another branch's customer
    found = web.get("/customers?q=jincheng").text  # pinyin search, as the API does
    assert "苏州锦程服饰有限公司" in found and "无锡华美家纺" not in found
    filtered = web.get("/customers?grade=B").text
    assert "无锡华美家纺" in filtered and "苏州锦程服饰有限公司" not in filtered
    fragment = web.get(
        "/customers?lifecycle_stage=active", headers={"HX-Request": "1", "HX-Target": "record-list"}
    )
    assert "苏州锦程服饰有限公司" in fragment.text and "<html" not in fragment.text


def test_bad_filters_and_sorts_are_explained_not_crashed(signed_in, world):
    web = signed_in(user=world["sales"])
    response = web.get("/customers?colour=red&sort=shoe_size")
    assert response.status_code == 400
    assert 'data-testid="list-errors"' in response.text


def test_every_list_renders(signed_in, world):
    web = signed_in(user=world["manager"])
    for name in (
        "customers",
        "opportunities",
        "quotes",
        "contracts",
        "orders",
        "receivables",
        "service-requests",
    ):
        assert web.get(f"/{name}").status_code == 200, name


def test_export_buttons_only_for_the_grant_and_exports_follow_the_filters(signed_in, world):
    sales = signed_in(user=world["sales"])
    assert 'data-testid="export-csv"' not in sales.get("/customers").text
    refused = sales.get("/customers/export?format=csv")
    assert refused.status_code == 403 and "导出" in refused.text
    manager = signed_in(user=world["manager"])
    page = manager.get("/customers?grade=A").text
    assert 'href="/customers/export?format=csv&amp;grade=A"' in page
    exported = manager.get("/customers/export?format=csv&grade=A")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig"))))
    names = {row[rows[0].index("客户名称")] for row in rows[1:]}
    assert names == {"苏州锦程服饰有限公司", "广州南方制衣"}
    workbook = manager.get("/customers/export?format=xlsx&q=wuxi")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.get_data())).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "无锡华美家纺" in values and "苏州锦程服饰有限公司" not in values


# --- process instance page -----------------------------------------------------------------


def test_instance_page_shows_path_history_and_data(signed_in, session, world):
    from engine.instances import start_instance

    instance = start_instance(
        session,
        world["sales"],
        "quote_discount_approval",
        subject={"type": "customer", "id": world["customer"].id},
    )
    session.commit()
    web = signed_in(user=world["sales"])
    page = web.get(f"/instances/{instance.id}")
    assert page.status_code == 200
    assert "data-current='[\"prepare_quote\"]'" in page.text
    assert "start" in page.text.split("data-completed='")[1].split("'")[0]
    assert "流程已启动" in page.text  # history
    xml = web.get(f"/instances/{instance.id}/diagram.bpmn")
    assert xml.status_code == 200 and b"quote_discount_approval" in xml.data


def test_instance_page_is_for_those_involved(signed_in, session, world, make_user):
    from engine.instances import start_instance

    instance = start_instance(session, world["sales"], "quote_discount_approval")
    session.commit()
    outsider = signed_in(user=make_user("service_agent", username="zhou"))
    response = outsider.get(f"/instances/{instance.id}")
    assert response.status_code == 403 and "无权访问" in response.text
    assert outsider.get(f"/instances/{instance.id}/diagram.bpmn").status_code == 403


def test_cancel_suspend_resume_for_those_allowed(signed_in, session, world, make_user):
    from engine.instances import start_instance

    instance = start_instance(session, world["sales"], "quote_discount_approval")
    session.commit()
    peer = signed_in(user=make_user("salesperson", username="peer"))  # in the lane: may look
    page = peer.get(f"/instances/{instance.id}").text
    assert 'data-testid="op-cancel"' not in page and 'data-testid="op-suspend"' not in page
    refused = peer.post(f"/instances/{instance.id}/suspend")
    assert refused.status_code == 302  # back to the page, with a friendly message
    assert "只有系统管理员" in peer.get(f"/instances/{instance.id}").text
    session.refresh(instance)
    assert instance.status != "suspended"
    admin = signed_in(user=world["admin"])
    admin.get(f"/instances/{instance.id}")
    admin.post(f"/instances/{instance.id}/suspend")
    session.refresh(instance)
    assert instance.status == "suspended"
    admin.post(f"/instances/{instance.id}/resume")
    session.refresh(instance)
    assert instance.status != "suspended"
    starter = signed_in(user=world["sales"])
    starter.get(f"/instances/{instance.id}")
    starter.post(f"/instances/{instance.id}/cancel")
    session.refresh(instance)
    assert instance.status == "cancelled"
    again = starter.post(f"/instances/{instance.id}/cancel")
    assert again.status_code == 302
    assert "未执行" in starter.get(f"/instances/{instance.id}").text


def test_pages_speak_english_when_asked(signed_in, session, world):
    web = signed_in(user=world["sales"], lang="en")
    listing = web.get("/customers").text
    assert ">Name</th>" in listing and "Active" in listing and "Prospect" in listing
    page = web.get(f"/customers/{world['customer'].id}").text
    assert "Log an interaction" in page and "Timeline" in page and "WeChat group" in page
    assert "Customer record created" in page


def test_other_lists_show_the_customer_and_codes_in_words(signed_in, session, world):
    create_record(
        session,
        actor_for(session, world["sales"]),
        "opportunities",
        {
            "customer_id": world["customer"].id,
            "title": "春季衬衫面料 20万米",
            "stage": "negotiation",
            "amount": "360000",
        },
    )
    session.commit()
    web = signed_in(user=world["sales"])
    page = web.get("/opportunities").text
    assert "春季衬衫面料 20万米" in page and "商务谈判" in page and "¥360,000.00" in page
    assert f'href="/customers/{world["customer"].id}">苏州锦程服饰有限公司' in page
    assert "春季衬衫" not in web.get("/opportunities?stage=won").text
