"""The segment editor over real HTTP (Flask's test client, signed in through the login form):
the same services, permission checks, data scope and field errors as
/api/v1/analytics/segments, and the reminder rule form's segment select."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import event, select

from core import clock
from crm_domain.access import actor_for
from crm_domain.analytics.models import Segment
from crm_domain.analytics.segments import create_segment
from crm_domain.custom_fields import define_field
from crm_domain.reminders.models import ReminderRule
from tests.support.rules import REMINDER_RULE_FORM, rule

EDITOR = "/analytics/saved-segments"


def saved(session, org, owner, name: str, definition: dict) -> Segment:
    segment = create_segment(
        session, actor_for(session, owner), {"name": name, "definition": definition}
    )
    session.commit()
    return segment


def test_a_segment_is_created_with_filters_and_ranges_from_the_form(session, signed_in, org):
    org.customer(org.sales_a1, name="苏州锦华纺织有限公司", grade="A", region="江苏 苏州")
    org.customer(org.sales_a1, name="无锡恒丰服饰", grade="B", region="江苏 苏州")
    org.customer(org.sales_b, name="广州南方制衣", grade="A", region="江苏 苏州")  # not hers
    web = signed_in("salesperson", user=org.sales_a1, lang="zh_CN")
    page = web.get(f"{EDITOR}/new")
    assert page.status_code == 200
    assert 'name="f.grade"' in page.text and 'name="r.monetary.min"' in page.text

    # The live count, within her own customers: both of hers, then only the A one.
    assert ">2</strong>" in web.post(f"{EDITOR}/count", {"f.region": "江苏 苏州"}).text
    assert ">1</strong>" in web.post(f"{EDITOR}/count", {"f.grade": "A"}).text

    created = web.post(
        f"{EDITOR}/new",
        {
            "name": "苏州 A 级",
            "description": "重点客户",
            "f.grade": "A",
            "f.region": "江苏 苏州",
            "f.lifecycle_stage": "",
            "r.monetary.min": "100000",
            "r.monetary.max": "",
            "r.r_score.min": "4",
            "r.r_score.max": "5",
            "quadrant": "keep",
        },
    )
    assert created.status_code == 302, created.text[:3000]
    segment = session.scalar(select(Segment).where(Segment.name == "苏州 A 级"))
    assert segment.owner_id == org.sales_a1.id and segment.description == "重点客户"
    assert segment.definition == {
        "filters": {"region": "江苏 苏州", "grade": "A"},
        "ranges": {"r_score": [4, 5], "monetary": [100000, None]},
        "quadrant": "keep",
    }
    assert created.headers["Location"].endswith(f"{EDITOR}/{segment.id}")
    edit = web.get(f"{EDITOR}/{segment.id}")
    assert 'value="100000"' in edit.text and "重点保持" in edit.text
    assert f"/analytics/segments?segment_id={segment.id}" in edit.text  # its comparison report
    listed = web.get(EDITOR).text
    assert "苏州 A 级" in listed


def test_bad_input_comes_back_with_each_message_under_its_field(session, signed_in, org):
    web = signed_in("salesperson", user=org.sales_a1, lang="zh_CN")
    response = web.post(
        f"{EDITOR}/new",
        {
            "name": " ",
            "r.monetary.min": "多少",
            "r.r_score.min": "5",
            "r.r_score.max": "2",
        },
    )
    assert response.status_code == 422
    text = response.text
    assert "请更正标出的字段" in text
    assert text.count('aria-invalid="true"') == 5  # name, two monetary inputs, two r_score
    monetary = text.split('data-range="monetary"')[1].split("</tr>")[0]
    assert "请输入数字" in monetary
    r_score = text.split('data-range="r_score"')[1].split("</tr>")[0]
    assert "最小值大于最大值" in r_score
    assert 'value="多少"' in text  # what was typed stays in the form
    assert session.scalar(select(Segment)) is None
    english = signed_in("salesperson", user=org.sales_b, lang="en")
    again = english.post(f"{EDITOR}/new", {"name": "", "r.r_score.min": "5", "r.r_score.max": "2"})
    assert "The minimum is above the maximum." in again.text
    assert "Give a name of 1 to 200 characters." in again.text


def test_pages_check_permissions_and_scope_on_the_server(session, signed_in, org, make_user):
    theirs = saved(session, org, org.sales_b, "华南客户", {"filters": {"grade": "A"}})
    designer = signed_in("process_designer")  # may not read customers: no segments either
    for url in (EDITOR, f"{EDITOR}/new", f"{EDITOR}/{theirs.id}"):
        assert designer.get(url).status_code == 403, url
    assert designer.post(f"{EDITOR}/count", {"f.grade": "A"}).status_code == 403
    assert designer.post(f"{EDITOR}/new", {"name": "x"}).status_code == 403

    web = signed_in("salesperson", user=org.sales_a1)
    assert web.get(f"{EDITOR}/{theirs.id}").status_code == 404  # outside her scope
    assert web.post(f"{EDITOR}/{theirs.id}", {"name": "mine now"}).status_code == 404
    assert web.post(f"{EDITOR}/{theirs.id}/delete").status_code == 404
    for huge in (2**31, 10**20):  # no INTEGER column holds it: not found, not a 500
        assert web.get(f"{EDITOR}/{huge}").status_code == 404
        assert web.post(f"{EDITOR}/{huge}", {"name": "x"}).status_code == 404
        assert web.post(f"{EDITOR}/{huge}/delete").status_code == 404
    assert "华南客户" not in web.get(EDITOR).text
    session.expire_all()
    assert session.get(Segment, theirs.id).name == "华南客户"
    manager = signed_in("sales_manager", user=org.manager_b)  # the owner's branch manager
    assert manager.get(f"{EDITOR}/{theirs.id}").status_code == 200


def test_a_segment_a_rule_uses_is_kept_and_the_page_names_the_rule(session, signed_in, org):
    segment = saved(session, org, org.admin, "A 级客户", {"filters": {"grade": "A"}})
    admin = signed_in("admin", user=org.admin, lang="zh_CN")
    admin.get("/admin/rules/reminders/new")
    rule_form = {
        **REMINDER_RULE_FORM,
        "name": "A 级合同到期",
        "filters": '{"status": ["active"]}',
        "segment": str(segment.id),
    }
    # A made-up id in the select comes back under the select, not as a crash.
    bad = admin.post("/admin/rules/reminders/new", {**rule_form, "segment": "999999"})
    assert bad.status_code == 422
    select_part = bad.text.split('data-testid="rule-segment"')[1].split("</label>")[0]
    assert "There is no segment 999999." in select_part
    created = admin.post("/admin/rules/reminders/new", rule_form)
    assert created.status_code == 302, created.text[:3000]
    rule = session.scalar(select(ReminderRule))
    assert rule.filters == {"status": ["active"], "segment": segment.id}
    with clock.frozen_at(datetime(2027, 3, 1, 2, tzinfo=UTC)):
        page = admin.get(f"/admin/rules/reminders/{rule.id}")
    assert f'<option value="{segment.id}" selected>A 级客户</option>' in page.text
    assert '{"status": ["active"]}' in page.text.replace("&#34;", '"')
    assert "A 级客户" in page.text.split('data-testid="preview-segment"')[1]

    refused = admin.post(f"{EDITOR}/{segment.id}/delete", follow_redirects=True)
    assert "A 级合同到期" in refused.text and "提醒规则或营销活动仍在使用此细分" in refused.text
    assert session.get(Segment, segment.id) is not None
    listed = admin.get(EDITOR).text
    assert "A 级合同到期" in listed.split(f'data-segment-id="{segment.id}"')[1]

    # The rule lets go of the segment (select emptied): now it can be deleted.
    let_go = admin.post(f"/admin/rules/reminders/{rule.id}", {**rule_form, "segment": ""})
    assert let_go.status_code == 302
    session.expire_all()
    assert rule.filters == {"status": ["active"]}
    segment_id = segment.id
    deleted = admin.post(f"{EDITOR}/{segment_id}/delete")
    assert deleted.status_code == 302
    session.expire_all()
    assert session.get(Segment, segment_id) is None


def test_custom_fields_are_offered_and_matched_like_the_customer_list(session, signed_in, org):
    admin_actor = org.admin
    channel = {
        "name": "channel",
        "type": "choice",
        "label": {"zh": "销售渠道", "en": "Sales channel"},
        "choices": [
            {"value": "direct", "label": {"zh": "直销", "en": "Direct"}},
            {"value": "agent", "label": {"zh": "代理", "en": "Agent"}},
        ],
    }
    looms = {"name": "looms", "type": "integer", "label": {"zh": "织机台数", "en": "Looms"}}
    secret = {"name": "margin_note", "type": "text", "label": {"zh": "毛利备注", "en": "Margin"}}
    define_field(session, "customers", channel, False, actor=admin_actor)
    define_field(session, "customers", looms, False, actor=admin_actor)
    define_field(session, "customers", secret, True, actor=admin_actor)
    session.commit()
    for name, way in (("苏州锦华纺织有限公司", "direct"), ("无锡恒丰服饰", "agent")):
        org.customer(org.sales_a1, name=name, custom={"channel": way, "looms": 40})

    web = signed_in("salesperson", user=org.sales_a1, lang="zh_CN")
    page = web.get(f"{EDITOR}/new").text
    assert "销售渠道" in page and '<option value="direct" >直销</option>' in page
    assert 'name="f.custom.looms"' in page
    assert "margin_note" not in page  # sensitive, and she has no grant to see it
    assert ">1</strong>" in web.post(f"{EDITOR}/count", {"f.custom.channel": "direct"}).text
    assert ">2</strong>" in web.post(f"{EDITOR}/count", {"f.custom.looms": "40"}).text
    bad = web.post(f"{EDITOR}/new", {"name": "四十台", "f.custom.looms": "四十"})
    assert bad.status_code == 422
    looms_input = bad.text.split('data-filter="custom.looms"')[1].split("</label>")[0]
    assert "请输入数字" in looms_input and 'aria-invalid="true"' in looms_input
    created = web.post(f"{EDITOR}/new", {"name": "直销客户", "f.custom.channel": "direct"})
    assert created.status_code == 302
    segment = session.scalar(select(Segment).where(Segment.name == "直销客户"))
    assert segment.definition == {"filters": {"custom.channel": "direct"}, "ranges": {}}


def test_conditions_the_form_cannot_show_are_listed_and_kept_when_renamed(session, signed_in, org):
    """A segment made through the API with filters the editor has no input for keeps them when
    it is renamed in the browser (else it, and a reminder rule targeting it, widen to everyone);
    the page lists them, and a ticked "remove" drops one."""
    org.customer(org.sales_a1, name="苏州锦华纺织有限公司", grade="A", credit_rating="AAA")
    org.customer(org.sales_a1, name="无锡恒丰服饰", grade="A", credit_rating="BBB")
    definition = {
        "filters": {"grade": "A", "credit_rating": "AAA", "owner_id": str(org.sales_a1.id)},
        "ranges": {},
    }
    segment = saved(session, org, org.sales_a1, "AAA 客户", definition)
    web = signed_in("salesperson", user=org.sales_a1, lang="zh_CN")
    page = web.get(f"{EDITOR}/{segment.id}").text
    assert 'name="f.credit_rating"' not in page  # no input for it
    kept = page.split('data-testid="segment-kept"')[1].split("</div>")[0]
    assert "此细分还有无法在此编辑的条件" in kept
    assert "信用评级: <span >AAA</span>" in kept and f"负责人编号: <span >{org.sales_a1.id}" in kept
    # The live count of the form as it stands counts the kept conditions too.
    live = web.post(f"{EDITOR}/count?segment_id={segment.id}", {"f.grade": "A"}).text
    assert ">1</strong>" in live

    renamed = web.post(f"{EDITOR}/{segment.id}", {"name": "AAA 级客户", "f.grade": "A"})
    assert renamed.status_code == 302, renamed.text[:3000]
    session.expire_all()
    assert session.get(Segment, segment.id).definition == definition
    assert session.get(Segment, segment.id).name == "AAA 级客户"
    changed = web.post(f"{EDITOR}/{segment.id}", {"name": "AAA", "f.grade": "A", "f.kind": ""})
    assert changed.status_code == 302
    english = signed_in("salesperson", user=org.sales_a1, lang="en").get(f"{EDITOR}/{segment.id}")
    assert "This segment also has conditions that cannot be edited here." in english.text
    assert "Credit rating: <span >AAA</span>" in english.text

    # Removing one on purpose; the others stay (and the count widens to both A customers).
    assert (
        ">2</strong>"
        in web.post(
            f"{EDITOR}/count?segment_id={segment.id}", {"f.grade": "A", "drop": "f.credit_rating"}
        ).text
    )
    dropped = web.post(
        f"{EDITOR}/{segment.id}", {"name": "AAA", "f.grade": "A", "drop": "f.credit_rating"}
    )
    assert dropped.status_code == 302
    session.expire_all()
    assert session.get(Segment, segment.id).definition["filters"] == {
        "grade": "A",
        "owner_id": str(org.sales_a1.id),
    }


def test_a_sensitive_filter_is_kept_hidden_from_an_editor_without_the_grant(
    session, signed_in, org
):
    definition = {"filters": {"tax_id": "91320500MA1XYZ0001"}, "ranges": {"monetary": [1, None]}}
    segment = saved(session, org, org.manager_a, "税号客户", definition)
    segment.owner_id, segment.org_unit_id = org.sales_a1.id, org.office_a1.id  # handed over
    session.commit()
    web = signed_in("salesperson", user=org.sales_a1, lang="zh_CN")
    page = web.get(f"{EDITOR}/{segment.id}").text
    assert "91320500MA1XYZ0001" not in page
    assert "税号: <span >(隐藏)</span>" in page.split('data-testid="segment-kept"')[1]

    renamed = web.post(f"{EDITOR}/{segment.id}", {"name": "重点客户", "r.monetary.min": "1"})
    assert renamed.status_code == 302, renamed.text[:3000]
    session.expire_all()
    assert session.get(Segment, segment.id).definition == definition
    # Changing its conditions is a definition she may not make: refused, nothing lost.
    refused = web.post(f"{EDITOR}/{segment.id}", {"name": "重点客户", "r.monetary.min": "5"})
    assert refused.status_code == 422
    kept = refused.text.split('data-testid="segment-kept"')[1].split("</div>")[0]
    assert "按敏感字段筛选需要" in kept and 'value="5"' in refused.text
    session.expire_all()
    assert session.get(Segment, segment.id).definition == definition


def test_the_list_reads_the_reminder_rules_once_for_all_its_segments(session, signed_in, org):
    ids = [
        saved(session, org, org.admin, f"细分 {n}", {"filters": {"grade": "A"}}).id for n in "123"
    ]
    for name, segment_id in (("甲", ids[0]), ("乙", ids[0]), ("丙", ids[2])):
        rule(
            session,
            name=name,
            kind="date_field",
            collection="contracts",
            date_field="ends_on",
            filters={"segment": segment_id},
        )
    admin = signed_in("admin", user=org.admin, lang="zh_CN")
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        listed = admin.get(EDITOR).text
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert sum(bool(re.search(r"FROM reminder_rule\b", s)) for s in statements) == 1
    cells = {i: listed.split(f'data-segment-id="{i}"')[1].split("</tr>")[0] for i in ids}
    assert "甲, 乙" in cells[ids[0]] and "丙" not in cells[ids[0]]
    assert "—" in cells[ids[1]] and "丙" in cells[ids[2]]


def test_a_bound_too_large_for_any_figure_is_a_field_error_and_the_count_still_answers(
    signed_in, org
):
    web = signed_in("salesperson", user=org.sales_a1, lang="zh_CN")
    typed = {"name": "复购", "r.frequency.min": "99999999999999999999999", "r.frequency.max": ""}
    saved = web.post(f"{EDITOR}/new", typed)
    assert saved.status_code == 422
    frequency = saved.text.split('data-range="frequency"')[1].split("</tr>")[0]
    assert "请输入 -10^15 到 10^15 之间的数字" in frequency
    counted = web.post(f"{EDITOR}/count", {**typed, "r.frequency.min": "1e300"})
    assert counted.status_code == 200
    assert web.get(EDITOR).status_code == 200
