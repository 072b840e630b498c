"""System settings: typed and validated, changed over REST, seen by every worker at once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from core.errors import NotFound
from crm_domain import settings
from crm_domain.settings import SettingsVersion, SystemSetting, get_setting

URL = "/api/v1/admin/settings"


def test_defaults_are_listed_with_labels_in_both_languages(api_as, session):
    body = api_as("admin").get(URL).get_json()
    assert body["values"]["money.decimal_places"] == 2
    assert body["values"]["ui.default_language"] == "zh-CN"
    assert body["values"]["calendar.work_days"] == [1, 2, 3, 4, 5]
    money = next(item for item in body["items"] if item["key"] == "money.decimal_places")
    assert money["is_default"] is True and money["kind"] == "integer"
    assert money["label"] == {"zh-CN": "金额小数位数", "en": "Decimal places for money amounts"}
    assert get_setting(session, "money.decimal_places") == 2


def test_admin_changes_settings_and_the_next_read_sees_them(api_as, session):
    assert get_setting(session, "money.decimal_places") == 2  # warms the process cache
    admin = api_as("admin")
    changed = admin.patch(
        URL,
        json={
            "money.decimal_places": 3,
            "calendar.work_days": [6, 1, 2, 3, 4, 5, 5],
            "calendar.work_hours": {"start": "08:30", "end": "17:30"},
            "ui.default_language": "en",
        },
    )
    assert changed.status_code == 200, changed.get_json()
    values = changed.get_json()["values"]
    assert values["money.decimal_places"] == 3
    assert values["calendar.work_days"] == [1, 2, 3, 4, 5, 6]  # normalized: sorted, no repeats
    # Another session (another worker) sees the change on its next read, cache or not.
    assert get_setting(session, "money.decimal_places") == 3
    assert get_setting(session, "ui.default_language") == "en"
    assert admin.get(URL).get_json()["values"]["calendar.work_hours"]["start"] == "08:30"


def test_null_puts_a_setting_back_to_its_default(api_as, session):
    admin = api_as("admin")
    admin.patch(URL, json={"reminders.lead_days_default": 7})
    assert get_setting(session, "reminders.lead_days_default") == 7
    reset = admin.patch(URL, json={"reminders.lead_days_default": None}).get_json()
    assert reset["values"]["reminders.lead_days_default"] == 1
    item = next(i for i in reset["items"] if i["key"] == "reminders.lead_days_default")
    assert item["is_default"] is True
    assert session.get(SystemSetting, "reminders.lead_days_default") is None


def test_invalid_values_get_field_errors_and_nothing_changes(api_as, session):
    admin = api_as("admin")
    response = admin.patch(
        URL,
        json={
            "money.decimal_places": 9,
            "quantity.decimal_places": "two",
            "calendar.work_days": [0, 8],
            "calendar.work_hours": {"start": "18:00", "end": "09:00"},
            "calendar.extra_holidays": ["2026-02-30"],
            "email.smtp_url": "http://mail.example.com",
            "ui.default_language": "fr",
            "no.such.setting": 1,
            "reminders.lead_days_default": 3,  # valid, but the request is all or nothing
        },
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {
        "money.decimal_places",
        "quantity.decimal_places",
        "calendar.work_days",
        "calendar.work_hours",
        "calendar.extra_holidays",
        "email.smtp_url",
        "ui.default_language",
        "no.such.setting",
    }
    assert "0 to 4" in details["money.decimal_places"][0]
    assert "2026-02-30" in details["calendar.extra_holidays"][0]
    assert get_setting(session, "reminders.lead_days_default") == 1

    for bad_body in ([1, 2], "text", {}):
        bad = admin.patch(URL, json=bad_body)
        assert bad.status_code == 422, bad_body
        assert bad.get_json()["error"]["details"]


def test_smtp_password_is_never_shown(api_as, session):
    admin = api_as("admin")
    url = "smtp://crm%40jinhua.cn:s3cret-pw@smtp.jinhua.cn:587?from=crm@jinhua.cn"
    body = admin.patch(URL, json={"email.smtp_url": url}).get_json()
    assert "s3cret-pw" not in str(body)
    assert body["values"]["email.smtp_url"].startswith("smtp://crm%40jinhua.cn:***@smtp")
    assert get_setting(session, "email.smtp_url") == url  # the sender gets the real one
    log = admin.get("/api/v1/admin/audit-log?kind=setting").get_json()
    assert "s3cret-pw" not in str(log)


def test_only_administrators_may_read_or_change_settings(api_as, anonymous):
    assert anonymous.get(URL).status_code == 401
    sales = api_as("salesperson")
    assert sales.get(URL).status_code == 403
    assert sales.patch(URL, json={"money.decimal_places": 0}).status_code == 403


def test_a_change_by_another_process_is_seen_without_restart(session):
    """The process cache is keyed by the stamp in the database, so it can never go stale."""
    assert get_setting(session, "quantity.decimal_places") == 3
    settings.update_settings(session, None, {"quantity.decimal_places": 1})
    assert get_setting(session, "quantity.decimal_places") == 1
    # Another process writes the row and a new stamp directly; this process's cache still holds
    # the old stamp's values, and must not serve them.
    session.execute(
        update(SystemSetting).where(SystemSetting.key == "quantity.decimal_places").values(value=0)
    )
    session.execute(update(SettingsVersion).values(stamp="written-by-another-worker"))
    assert get_setting(session, "quantity.decimal_places") == 0


def test_unknown_setting_key_is_a_clear_error(session):
    with pytest.raises(NotFound, match=r"No setting 'money\.places'"):
        get_setting(session, "money.places")


def test_working_calendar_follows_chinese_public_holidays(api_as, session):
    national_day, make_up_saturday = date(2026, 10, 1), date(2026, 10, 10)
    assert not settings.is_working_day(session, national_day)
    assert settings.is_working_day(session, make_up_saturday)  # 调休: a Saturday at work
    assert not settings.is_working_day(session, date(2026, 10, 17))  # an ordinary Saturday
    assert settings.is_working_day(session, date(2026, 10, 12))
    # The next working day after 30 September comes after the Golden Week.
    assert settings.add_working_days(session, date(2026, 9, 30), 1) == date(2026, 10, 8)

    admin = api_as("admin")
    admin.patch(
        URL,
        json={
            "calendar.extra_holidays": ["2026-10-12"],  # the company's own day off
            "calendar.extra_workdays": ["2026-10-17"],
        },
    )
    assert not settings.is_working_day(session, date(2026, 10, 12))
    assert settings.is_working_day(session, date(2026, 10, 17))
    admin.patch(URL, json={"calendar.holiday_country": "none"})
    assert settings.is_working_day(session, national_day)  # a Thursday like any other


def test_working_days_are_counted_up_to_ten_years_either_way(session):
    start = date(2026, 9, 30)
    far = settings.add_working_days(session, start, settings.MAX_WORKING_DAYS)
    assert far.year > 2036 and settings.is_working_day(session, far)
    assert settings.add_working_days(session, start, -settings.MAX_WORKING_DAYS).year < 2017
    # Further is refused at once, not counted one calendar look-up at a time.
    for days in (settings.MAX_WORKING_DAYS + 1, -(settings.MAX_WORKING_DAYS + 1), 10**9):
        with pytest.raises(ValueError, match=r"at most 3660 working days"):
            settings.add_working_days(session, start, days)


def test_the_smtp_setting_overrides_the_environment_without_restart(
    api_as, session, make_user, session_factory
):
    import socket

    from aiosmtpd.controller import Controller

    from crm_domain.notifications import notify
    from crm_domain.outbox import dispatch_due
    from crm_domain.senders import outbox_senders

    received = []

    class Mailbox:
        async def handle_DATA(self, server, smtp_session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(Mailbox(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        user = make_user("salesperson")
        user.email = "qian@jinhua.example"
        session.commit()
        notify(session, [user.id], "设置已更新")
        session.commit()
        senders = outbox_senders(None)  # the process started without WEFT_SMTP_URL
        smtp_url = f"smtp://127.0.0.1:{port}?from=crm@jinhua.example"
        assert api_as("admin").patch(URL, json={"email.smtp_url": smtp_url}).status_code == 200
        assert dispatch_due(session_factory, senders).sent == 1
    finally:
        server.stop()
    assert [mail.rcpt_tos for mail in received] == [["qian@jinhua.example"]]
