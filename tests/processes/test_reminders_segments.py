"""Reminder rules that target a saved customer segment (`filters.segment`): checked on write,
shown in the preview, applied by the reminder job as the segment stands at each run
(a customer who leaves it stops getting reminders), company-wide, and a segment a rule uses
cannot be deleted under it. Over REST, with the injectable clock and `weft tick --now`."""

from __future__ import annotations

from datetime import UTC, date, datetime

from click.testing import CliRunner
from sqlalchemy import select, update

from core import clock
from crm_domain.access import actor_for
from crm_domain.analytics.models import CustomerMetrics
from crm_domain.analytics.segments import create_segment
from crm_domain.customers import Customer
from crm_domain.reminders.models import FiredReminder
from crm_domain.reminders.rules import create_reminder_rule
from engine.reminders import run_due_reminders
from tests.support.rules import (
    GOOD,
    RULES,
    Org,
    api_for,
    at,
    deploy_reminder_process,
    open_tasks_of,
    reminder_instances,
)

SEGMENTS = "/api/v1/analytics/segments"


def segment_of(api, name: str, definition: dict) -> int:
    response = api.post(SEGMENTS, json={"name": name, "definition": definition})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def expiry_rule(api, segment_id: int, **changes) -> dict:
    body = {**GOOD, "recipients": ["owner"], "channels": ["in_app"], **changes}
    body["filters"] = {"status": ["active"], "segment": segment_id}
    response = api.post(RULES, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def direct_sales_segment(admin) -> tuple[int, int]:
    """A custom "channel" field and a segment filtering on it: (field id, segment id)."""
    channel = {"name": "channel", "type": "text", "label": {"zh": "渠道", "en": "Channel"}}
    field = admin.post("/api/v1/admin/fields", json={"collection": "customers", **channel})
    assert field.status_code == 201, field.get_json()
    return field.get_json()["id"], segment_of(
        admin, "直销客户", {"filters": {"custom.channel": "direct"}}
    )


def fired_records(session) -> list[int]:
    return sorted(session.scalars(select(FiredReminder.record_id)))


def test_a_segment_filter_is_checked_field_by_field(client, org):
    admin = api_for(client, org.admin)
    segment_id = segment_of(admin, "A 级客户", {"filters": {"grade": "A"}})
    rule = expiry_rule(admin, segment_id)
    assert rule["filters"] == {"status": ["active"], "segment": segment_id}
    assert admin.get(f"{RULES}/{rule['id']}").get_json()["filters"]["segment"] == segment_id

    for bad, expected in (
        (999999, "There is no segment 999999."),
        # Past what an INTEGER column holds: PostgreSQL and SQLite refuse the lookup itself.
        (2**31, f"There is no segment {2**31}."),
        (10**20, f"There is no segment {10**20}."),
        ("A 级客户", "Give the id of a saved segment."),
        (True, "Give the id of a saved segment."),
        ([segment_id], "Give the id of a saved segment."),
    ):
        response = admin.post(RULES, json={**GOOD, "filters": {"segment": bad}})
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["details"] == {"filters.segment": [expected]}
    # Campaign records have no customer: a customer segment cannot choose them.
    no_customer = admin.post(
        RULES,
        json={
            **GOOD,
            "collection": "campaigns",
            "date_field": "starts_on",
            "message": {"zh": "活动 {rule.name}"},
            "filters": {"segment": segment_id},
        },
    )
    assert no_customer.status_code == 422, no_customer.get_json()
    assert "filters.segment" in no_customer.get_json()["error"]["details"]
    # A change to an existing rule is checked the same way.
    changed = admin.patch(f"{RULES}/{rule['id']}", json={"filters": {"segment": 424242}})
    assert changed.status_code == 422
    assert changed.get_json()["error"]["details"] == {
        "filters.segment": ["There is no segment 424242."]
    }


def test_a_segment_in_use_cannot_be_deleted_until_its_rules_let_go(client, org):
    admin = api_for(client, org.admin)
    segment_id = segment_of(admin, "A 级客户", {"filters": {"grade": "A"}})
    first = expiry_rule(admin, segment_id, name="合同到期提醒")
    second = expiry_rule(admin, segment_id, name="A 级合同跟进", active=False)

    refused = admin.delete(f"{SEGMENTS}/{segment_id}")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["details"] == {
        "reminder_rules": [
            {"id": first["id"], "name": "合同到期提醒"},
            {"id": second["id"], "name": "A 级合同跟进"},  # switched off, but still uses it
        ],
        "campaigns": [],
    }
    assert "合同到期提醒" in error["message"] and "A 级合同跟进" in error["message"]
    assert admin.get(f"{SEGMENTS}/{segment_id}").status_code == 200

    assert admin.patch(f"{RULES}/{first['id']}", json={"filters": {}}).status_code == 200
    assert admin.delete(f"{RULES}/{second['id']}").status_code == 204
    assert admin.delete(f"{SEGMENTS}/{segment_id}").status_code == 204


def test_a_segment_a_campaign_targets_cannot_be_deleted_under_it(client, org):
    admin = api_for(client, org.admin)
    segment_id = segment_of(admin, "A 级客户", {"filters": {"grade": "A"}})
    campaign = admin.post(
        "/api/v1/campaigns", json={"name": "春季新品推介", "segment": {"segment_id": segment_id}}
    )
    assert campaign.status_code == 201, campaign.get_json()

    refused = admin.delete(f"{SEGMENTS}/{segment_id}")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["details"]["campaigns"] == [
        {"id": campaign.get_json()["id"], "name": "春季新品推介"}
    ]
    assert "春季新品推介" in refused.get_json()["error"]["message"]

    moved = admin.patch(
        f"/api/v1/campaigns/{campaign.get_json()['id']}",
        json={"segment": {"filters": {"grade": "A"}}, "version": campaign.get_json()["version"]},
    )
    assert moved.status_code == 200, moved.get_json()
    assert admin.delete(f"{SEGMENTS}/{segment_id}").status_code == 204


def test_reminders_follow_the_segment_as_it_stands_at_each_run(
    client, session, session_factory, org
):
    admin = api_for(client, org.admin)
    # Saved by a salesperson; the rule applies it company-wide (her scope does not limit it).
    seller = api_for(client, org.sales_a1)
    segment_id = segment_of(seller, "A 级客户", {"filters": {"grade": "A"}})
    in_a = org.customer(org.sales_a1, name="苏州锦华纺织有限公司", grade="A")
    in_b = org.customer(org.sales_a1, name="无锡恒丰服饰", grade="B")
    elsewhere = org.customer(org.sales_b, name="广州南方制衣", grade="A")
    ends = date(2027, 3, 31)
    first = org.contract(org.sales_a1, in_a, "HT-A-1", ends)
    org.contract(org.sales_a1, in_b, "HT-B-1", ends)
    theirs = org.contract(org.sales_b, elsewhere, "HT-S-1", ends)
    later = org.contract(org.sales_a1, in_a, "HT-A-2", date(2027, 5, 26))
    rule = expiry_rule(admin, segment_id)

    with clock.frozen_at(at(date(2027, 3, 20))):
        preview = admin.get(f"{RULES}/{rule['id']}/preview?days=90").get_json()
    assert [item["record_id"] for item in preview["items"]] == [first.id, theirs.id, later.id]
    assert preview["segment"] == {"id": segment_id, "name": "A 级客户", "customers": 2}

    report = run_due_reminders(session_factory, at(date(2027, 3, 24)))
    assert (report.created, report.errors) == (2, 0)
    assert fired_records(session) == sorted([first.id, theirs.id])
    reminded = sorted(int(i.subject_id) for i in reminder_instances(session))
    assert reminded == sorted([first.id, theirs.id])
    assert len(open_tasks_of(session, org.sales_b)) == 1  # her own customer's contract

    # The customer leaves the segment before the next contract's reminder day.
    customer = seller.get(f"/api/v1/customers/{in_a.id}").get_json()
    changed = seller.patch(
        f"/api/v1/customers/{in_a.id}", json={"grade": "C", "version": customer["version"]}
    )
    assert changed.status_code == 200, changed.get_json()
    report = run_due_reminders(session_factory, at(date(2027, 5, 19)))  # its reminder day
    assert (report.created, report.errors) == (0, 0)
    assert later.id not in fired_records(session)

    # Back in (the segment now takes grade C too): the next run catches up on its day.
    definition = {"filters": {"grade": "C"}}
    widened = seller.patch(f"{SEGMENTS}/{segment_id}", json={"definition": definition})
    assert widened.status_code == 200, widened.get_json()
    report = run_due_reminders(session_factory, at(date(2027, 5, 20)))
    assert report.created == 1
    assert later.id in fired_records(session)
    assert len(reminder_instances(session)) == 3


def test_a_customer_rule_with_a_segment_of_rfm_ranges(client, session, session_factory, org):
    """A no-contact rule on customers themselves, with a segment over computed figures."""
    admin = api_for(client, org.admin)
    loyal = org.customer(org.sales_a1, name="常州美亚制衣")
    once = org.customer(org.sales_a1, name="杭州丝路家纺")
    for customer, orders in ((loyal, 5), (once, 1)):
        session.add(CustomerMetrics(customer_id=customer.id, frequency=orders, monetary=1000.0))
    # Never contacted: their silence counts from their creation (a Friday, 10:00 in China).
    created = date(2027, 3, 12)
    session.execute(
        update(Customer)
        .where(Customer.id.in_([loyal.id, once.id]))
        .values(created_at=datetime(2027, 3, 12, 2, tzinfo=UTC))
    )
    session.commit()
    segment_id = segment_of(admin, "复购客户", {"ranges": {"frequency": [2, None]}})
    response = admin.post(
        RULES,
        json={
            "name": "久未联系",
            "kind": "no_contact",
            "days": 10,
            "recipients": ["owner"],
            "message": {"zh": "{customer.name} 已 {days} 天未联系"},
            "filters": {"segment": segment_id},
        },
    )
    assert response.status_code == 201, response.get_json()
    fire_day = date.fromordinal(created.toordinal() + 10)  # Monday 22 March
    report = run_due_reminders(session_factory, at(fire_day))
    assert (report.created, report.errors) == (1, 0)
    assert fired_records(session) == [loyal.id]


def test_a_segment_that_stopped_working_is_reported_not_silently_empty(
    client, session, session_factory, org
):
    admin = api_for(client, org.admin)
    field_id, segment_id = direct_sales_segment(admin)
    rule = expiry_rule(admin, segment_id)
    customer = org.customer(org.sales_a1, grade="A", custom={"channel": "direct"})
    org.contract(org.sales_a1, customer, "HT-D-1", date(2027, 3, 31))
    archived = admin.delete(f"/api/v1/admin/fields/{field_id}")
    assert archived.status_code == 200, archived.get_data(as_text=True)

    with clock.frozen_at(at(date(2027, 3, 20))):
        preview = admin.get(f"{RULES}/{rule['id']}/preview?days=30")
    assert preview.status_code == 422
    assert "filters.segment" in preview.get_json()["error"]["details"]
    report = run_due_reminders(session_factory, at(date(2027, 3, 24)))
    assert (report.created, report.errors) == (0, 1)
    # Saving the rule again is refused with the reason, on the segment field.
    again = admin.patch(f"{RULES}/{rule['id']}", json={"days": 6})
    assert again.status_code == 422
    assert "custom.channel" in again.get_json()["error"]["details"]["filters.segment"][0]


def _seed(factory) -> None:
    """Committed: two customers, one in the segment, each with a contract falling due."""
    from crm_domain.users import create_user

    with factory() as session:
        deploy_reminder_process(session)
        counter = iter(range(100))

        def make_user(*roles, org_unit_id=None):
            user = create_user(
                session,
                f"seg{next(counter)}",
                "long-enough-1",
                list(roles),
                org_unit_id=org_unit_id,
            )
            session.commit()
            return user

        org = Org(session, make_user)
        inside = org.customer(org.sales_a1, name="苏州锦华纺织有限公司", grade="A")
        outside = org.customer(org.sales_a1, name="无锡恒丰服饰", grade="B")
        org.contract(org.sales_a1, inside, "HT-IN", date(2027, 3, 31))
        org.contract(org.sales_a1, outside, "HT-OUT", date(2027, 3, 31))
        actor = actor_for(session, org.admin)
        segment = create_segment(
            session, actor, {"name": "A 级客户", "definition": {"filters": {"grade": "A"}}}
        )
        body = {**GOOD, "channels": ["in_app"], "filters": {"segment": segment.id}}
        create_reminder_rule(session, org.admin, body)
        session.commit()


def test_weft_tick_reminds_only_the_segments_customers(
    committed_factory, database_url, monkeypatch, tmp_path
):
    from web.cli import main

    _seed(committed_factory)
    monkeypatch.setenv("WEFT_DATABASE_URL", database_url)
    monkeypatch.setenv("WEFT_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(
        main, ["tick", "--now", "2027-03-24T01:00:00Z"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "reminders 1 created" in result.output
    with committed_factory() as session:
        (instance,) = reminder_instances(session)
        assert "HT-IN" in instance.data["message"] and "HT-OUT" not in instance.data["message"]


def test_a_rule_whose_segment_broke_can_be_switched_off_but_not_pointed_at_a_broken_one(
    client, org
):
    admin = api_for(client, org.admin)
    field_id, broken = direct_sales_segment(admin)
    rule = expiry_rule(admin, broken)
    other = expiry_rule(admin, segment_of(admin, "A 级客户", {"filters": {"grade": "A"}}))
    assert admin.delete(f"/api/v1/admin/fields/{field_id}").status_code == 200

    # Switched off with its segment as it is, then edited while off.
    off = admin.patch(f"{RULES}/{rule['id']}", json={"active": False})
    assert off.status_code == 200, off.get_json()
    assert off.get_json()["active"] is False
    assert off.get_json()["filters"] == {"status": ["active"], "segment": broken}
    renamed = admin.patch(f"{RULES}/{rule['id']}", json={"name": "直销合同到期", "days": 5})
    assert renamed.status_code == 200, renamed.get_json()
    # Switching it on again, or pointing any rule at the broken segment, is still refused.
    for rule_id, change in (
        (rule["id"], {"active": True}),
        (other["id"], {"filters": {"segment": broken}}),
        (other["id"], {"filters": {"segment": broken}, "active": False}),
    ):
        refused = admin.patch(f"{RULES}/{rule_id}", json=change)
        assert refused.status_code == 422, change
        assert "custom.channel" in refused.get_json()["error"]["details"]["filters.segment"][0]
    created = admin.post(RULES, json={**GOOD, "active": False, "filters": {"segment": broken}})
    assert created.status_code == 422
    assert admin.get(f"{RULES}/{rule['id']}").get_json()["active"] is False
    assert admin.get(f"{RULES}/{other['id']}").get_json()["active"] is True
