"""The administrator console over real HTTP (Flask's test client, signed in through the login
form): every page checks the user's right on the server, and each change goes through the
crm_domain services and takes effect on the next request."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from core import clock
from crm_domain.admin_audit import AdminChange
from crm_domain.custom_fields import CustomField
from crm_domain.reminders.models import ReminderRule
from crm_domain.roles import Role
from crm_domain.settings import get_setting
from crm_domain.users import User
from tests.support.rules import REMINDER_RULE_FORM

PAGES = (
    "/admin/fields",
    "/admin/roles",
    "/admin/rules/reminders",
    "/admin/rules/reminders/new",
    "/admin/rules/start",
    "/admin/users",
    "/admin/org",
    "/admin/settings",
    "/admin/backup",
    "/admin/audit",
)


def test_an_administrator_opens_every_console_page_in_chinese(signed_in):
    admin = signed_in("admin", lang="zh_CN")
    for url in PAGES:
        response = admin.get(url)
        assert response.status_code == 200, (url, response.text[:500])
        assert "系统管理" in response.text  # the console menu, translated
    assert admin.get("/admin/console").status_code == 302
    assert "系统管理" in admin.get("/inbox").text  # the header links to the console


def test_pages_answer_403_without_the_right_and_a_designer_cannot_change_roles(signed_in):
    designer = signed_in("process_designer")
    salesperson = signed_in("salesperson")
    for web in (designer, salesperson):
        for url in PAGES:
            assert web.get(url).status_code == 403, url
        assert web.get("/admin/console").status_code == 403
        assert "/admin/console" not in web.get("/inbox").text  # no menu entry either
    response = designer.post("/admin/roles/salesperson", {"grant": "export"})
    assert response.status_code == 403
    assert designer.post("/admin/fields", {"name": "x", "type": "text"}).status_code == 403


def test_a_grant_opens_only_its_own_section(session, signed_in):
    session.add(
        Role(key="field_keeper", name={"en": "Fields"}, permissions={}, grants=["manage_fields"])
    )
    session.commit()
    keeper = signed_in("field_keeper")
    assert keeper.get("/admin/fields").status_code == 200
    assert keeper.get("/admin/roles").status_code == 403
    assert keeper.get("/admin/rules/reminders").status_code == 403


def test_a_required_custom_field_added_in_the_console_is_required_by_the_next_create(
    session, signed_in, api_as
):
    admin = signed_in("admin", lang="zh_CN")
    admin.get("/admin/fields?collection=customers")
    preview = admin.post(
        "/admin/fields/preview?collection=customers",
        {
            "name": "credit_code",
            "type": "text",
            "label_zh": "统一社会信用代码",
            "label_en": "Credit code",
            "required": "on",
        },
    )
    assert preview.status_code == 200
    assert 'name="credit_code"' in preview.text and "统一社会信用代码" in preview.text
    assert 'aria-required="true"' in preview.text
    response = admin.post(
        "/admin/fields?collection=customers",
        {
            "name": "credit_code",
            "type": "text",
            "label_zh": "统一社会信用代码",
            "label_en": "Credit code",
            "required": "on",
        },
    )
    assert response.status_code == 302
    field = session.scalar(select(CustomField).where(CustomField.name == "credit_code"))
    assert field.spec["required"] is True and field.collection == "customers"

    api = api_as("salesperson")
    refused = api.post("/api/v1/customers", json={"name": "苏州锦程服饰"})
    assert refused.status_code == 422
    assert "custom.credit_code" in refused.get_json()["error"]["details"]
    ok = api.post(
        "/api/v1/customers", json={"name": "苏州锦程服饰", "custom": {"credit_code": "91320500"}}
    )
    assert ok.status_code == 201, ok.get_json()


def test_a_bad_field_comes_back_with_the_message_under_its_input(session, signed_in):
    admin = signed_in("admin", lang="en")
    admin.get("/admin/fields")
    response = admin.post(
        "/admin/fields?collection=customers",
        {"name": "grade_x", "type": "choice", "label_en": "Grade X", "choices": ""},
    )
    assert response.status_code == 422
    assert "choice" in response.text.lower() and 'value="grade_x"' in response.text
    preview = admin.post(
        "/admin/fields/preview?collection=customers",
        {"name": "Bad Name!", "type": "text", "label_en": "x"},
    )
    assert 'data-testid="preview-problems"' in preview.text
    assert session.scalar(select(CustomField).where(CustomField.name == "grade_x")) is None


def test_editing_and_removing_a_field(session, signed_in):
    admin = signed_in("admin")
    admin.get("/admin/fields")
    admin.post(
        "/admin/fields?collection=contacts",
        {"name": "wechat", "type": "text", "label_zh": "微信", "label_en": "WeChat"},
    )
    field = session.scalar(select(CustomField).where(CustomField.name == "wechat"))
    page = admin.get(f"/admin/fields/{field.id}")
    assert page.status_code == 200 and "微信" in page.text
    assert (
        admin.post(
            f"/admin/fields/{field.id}",
            {"type": "text", "label_zh": "微信号", "label_en": "WeChat ID", "required": "on"},
        ).status_code
        == 302
    )
    session.expire_all()
    assert field.spec["label"] == {"zh": "微信号", "en": "WeChat ID"} and field.spec["required"]
    assert admin.post(f"/admin/fields/{field.id}/archive").status_code == 302
    session.expire_all()
    assert field.archived is True
    assert admin.get("/admin/fields/999999").status_code == 404


def test_the_role_matrix_changes_a_scope_and_grants(session, signed_in):
    admin = signed_in("admin")
    page = admin.get("/admin/roles/salesperson")
    assert page.status_code == 200 and 'name="perm.customers.read"' in page.text
    response = admin.post(
        "/admin/roles/salesperson",
        {
            "name_zh": "销售员",
            "name_en": "Salesperson",
            "perm.customers.read": "on",
            "perm.customers.update": "on",
            "scope.customers": "unit",
            "grant": ["export"],
        },
    )
    assert response.status_code == 302
    session.expire_all()
    role = session.get(Role, "salesperson")
    assert role.permissions == {"customers": {"actions": ["read", "update"], "scope": "unit"}}
    assert role.grants == ["export"]
    change = session.scalar(select(AdminChange).where(AdminChange.kind == "role"))
    assert change.actor_name == admin.user.username
    bad = admin.post(
        "/admin/roles/salesperson", {"perm.customers.read": "on", "scope.customers": "galaxy"}
    )
    assert bad.status_code == 422
    assert admin.post("/admin/roles", {"key": "9 bad"}).status_code == 422
    created = admin.post("/admin/roles", {"key": "auditor", "name_zh": "审计"})
    assert created.status_code == 302 and session.get(Role, "auditor") is not None


def test_a_reminder_rule_is_created_and_its_preview_follows_the_lead_days(session, signed_in, org):
    customer = org.customer(org.sales_a1, grade="A")
    org.contract(org.sales_a1, customer, "HT-SOON", date(2027, 3, 20))
    admin = signed_in("admin", user=org.admin, lang="zh_CN")
    admin.get("/admin/rules/reminders/new")
    with clock.frozen_at(datetime(2027, 3, 1, 2, tzinfo=UTC)):
        created = admin.post("/admin/rules/reminders/new", REMINDER_RULE_FORM)
        assert created.status_code == 302, created.text[:2000]
        rule = session.scalar(select(ReminderRule))
        page = admin.get(f"/admin/rules/reminders/{rule.id}")
        # 7 days before the 20th is Saturday the 13th: it fires on the working day before.
        assert "2027-03-12" in page.text
        preview = admin.post(
            f"/admin/rules/reminders/preview?rule_id={rule.id}",
            {**REMINDER_RULE_FORM, "days": "10"},
        )
        assert "2027-03-10" in preview.text and "2027-03-12" not in preview.text
        session.expire_all()
        assert rule.days == 7  # the preview saved nothing
        admin.post(f"/admin/rules/reminders/{rule.id}", {**REMINDER_RULE_FORM, "days": "3"})
        session.expire_all()
        assert rule.days == 3
        assert "2027-03-17" in admin.get(f"/admin/rules/reminders/{rule.id}").text
    bad = admin.post(f"/admin/rules/reminders/{rule.id}", {**REMINDER_RULE_FORM, "days": "-5"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    # Digits of other scripts ("²" is str.isdigit(), yet int() refuses it) and more digits than
    # int() reads are field errors too, not a 500.
    for days in ("²", "٣", "9" * 5000):
        bad = admin.post(f"/admin/rules/reminders/{rule.id}", {**REMINDER_RULE_FORM, "days": days})
        assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text, days


def test_start_rules_are_created_listed_and_refused_when_the_process_is_missing(
    session, signed_in, org
):
    admin = signed_in("admin", user=org.admin)
    admin.get("/admin/rules/start")
    form = {
        "name": "新客户回访",
        "event": "created",
        "collection": "customers",
        "process_key": "no_such_process",
        "active": "on",
    }
    refused = admin.post("/admin/rules/start", form)
    assert refused.status_code == 422 and "no_such_process" in refused.text
    ok = admin.post(
        "/admin/rules/start",
        {**form, "process_key": "reminder", "data_mapping": '{"customer_name": "name"}'},
    )
    assert ok.status_code == 302, ok.text[:2000]
    assert "新客户回访" in admin.get("/admin/rules/start").text


def test_users_are_created_reassigned_deactivated_and_given_a_new_password(session, signed_in, org):
    admin = signed_in("admin", user=org.admin)
    admin.get("/admin/users")
    created = admin.post(
        "/admin/users",
        {
            "username": "zhao.min",
            "display_name": "赵敏",
            "password": "start-1234",
            "roles": ["salesperson"],
            "org_unit_id": str(org.office_a1.id),
        },
    )
    assert created.status_code == 302
    user = session.scalar(select(User).where(User.username == "zhao.min"))
    assert user.roles == ["salesperson", "user"] and user.org_unit_id == org.office_a1.id
    assert (
        admin.post("/admin/users", {"username": "zhao.min", "password": "start-1234"}).status_code
        == 409
    )
    admin.post(
        f"/admin/users/{user.id}",
        {"display_name": "赵敏", "roles": ["service_agent"], "org_unit_id": str(org.branch_b.id)},
    )
    session.expire_all()
    assert user.roles == ["service_agent", "user"] and user.org_unit_id == org.branch_b.id
    weak = admin.post(
        f"/admin/users/{user.id}/password", {"password": "short", "confirmation": "short"}
    )
    assert weak.status_code == 422
    old_hash = user.password_hash
    admin.post(
        f"/admin/users/{user.id}/password",
        {"password": "new-pass-42", "confirmation": "new-pass-42"},
    )
    session.expire_all()
    assert user.password_hash != old_hash
    admin.post(f"/admin/users/{user.id}/active", {"active": "0"})
    session.expire_all()
    assert user.is_active is False
    assert admin.post(f"/admin/users/{org.admin.id}/active", {"active": "0"}).status_code == 422
    audit = admin.get("/admin/audit?q=zhao.min")
    assert audit.status_code == 200 and "new-pass-42" not in audit.text
    assert "password_hash" not in audit.text


def test_org_units_are_added_renamed_and_moved_but_not_under_themselves(session, signed_in, org):
    admin = signed_in("admin", user=org.admin)
    admin.get("/admin/org")
    admin.post(
        "/admin/org", {"name": "杭州办事处", "kind": "office", "parent_id": str(org.branch_a.id)}
    )
    page = admin.get("/admin/org")
    assert "杭州办事处" in page.text
    moved = admin.post(
        f"/admin/org/{org.office_a1.id}",
        {"name": "苏州分部", "kind": "office", "parent_id": str(org.branch_b.id)},
    )
    assert moved.status_code == 302
    session.expire_all()
    assert org.office_a1.name == "苏州分部" and org.office_a1.parent_id == org.branch_b.id
    loop = admin.post(
        f"/admin/org/{org.group.id}",
        {"name": org.group.name, "kind": "group", "parent_id": str(org.branch_b.id)},
    )
    assert loop.status_code == 422


def test_settings_are_saved_all_or_nothing(session, signed_in):
    admin = signed_in("admin", lang="en")
    page = admin.get("/admin/settings")
    assert "Decimal places for money amounts" in page.text
    form = {
        "money.decimal_places": "3",
        "quantity.decimal_places": "3",
        "reminders.lead_days_default": "5",
        "calendar.work_days": ["1", "2", "3", "4", "5", "6"],
        "calendar.work_hours.start": "08:30",
        "calendar.work_hours.end": "17:30",
        "calendar.holiday_country": "CN",
        "calendar.extra_holidays": "2026-12-31",
        "calendar.extra_workdays": "",
        "email.smtp_url": "",
        "ui.default_language": "en",
    }
    assert admin.post("/admin/settings", form).status_code == 302
    assert get_setting(session, "money.decimal_places") == 3
    assert get_setting(session, "calendar.work_days") == [1, 2, 3, 4, 5, 6]
    assert get_setting(session, "ui.default_language") == "en"
    bad = admin.post(
        "/admin/settings", {**form, "money.decimal_places": "9", "reminders.lead_days_default": "2"}
    )
    assert bad.status_code == 422
    assert get_setting(session, "reminders.lead_days_default") == 5  # nothing changed


def test_restore_needs_the_explicit_confirmation_and_a_valid_file(signed_in):
    admin = signed_in("admin", lang="en")
    admin.get("/admin/backup")
    unconfirmed = admin.post("/admin/backup/restore", {"confirm_word": "RESTORE"})
    assert unconfirmed.status_code == 422 and "RESTORE" in unconfirmed.text
    from io import BytesIO

    bad_file = admin.post(
        "/admin/backup/restore",
        {
            "understood": "on",
            "confirm_word": "RESTORE",
            "file": (BytesIO(b"not a zip"), "weft.zip"),
        },
        content_type="multipart/form-data",
    )
    assert bad_file.status_code == 422
    assert 'data-testid="restore-errors"' in bad_file.text


def test_a_backup_downloads_as_a_zip_and_is_logged(session, signed_in):
    admin = signed_in("admin")
    admin.get("/admin/backup")
    response = admin.post("/admin/backup/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.data[:2] == b"PK"
    audit = admin.get("/admin/audit?kind=backup")
    assert "weft-backup-" in audit.text
    assert admin.get("/admin/audit?since=yesterday").status_code == 422
