"""The staff pages through real HTTP (Flask's test client): sign-in, inbox, task form, notices."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core import clock
from crm_domain.notifications import notify
from crm_domain.settings import update_settings
from engine.models import HumanTask
from tests.web.conftest import PASSWORD, Browserless


def _open_task(session, instance_id: int, bpmn_id: str) -> HumanTask:
    return session.scalar(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.bpmn_id == bpmn_id,
            HumanTask.status == "open",
        )
    )


def test_pages_need_sign_in_and_come_back_after_it(web_client, make_user):
    response = web_client.get("/inbox?tab=available")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    make_user("salesperson", username="wang", password=PASSWORD)
    signed = web_client.post(
        "/login", {"username": "wang", "password": PASSWORD, "next": "/inbox?tab=available"}
    )
    assert signed.status_code == 302 and signed.headers["Location"] == "/inbox?tab=available"
    assert web_client.get("/inbox").status_code == 200


def test_login_never_redirects_off_site(web_client, make_user):
    make_user(username="wang", password=PASSWORD)
    signed = web_client.post(
        "/login", {"username": "wang", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert signed.headers["Location"] == "/inbox"


def test_wrong_password_is_refused_in_chinese_by_default(web_client, make_user):
    make_user(username="wang", password=PASSWORD)
    response = web_client.post("/login", {"username": "wang", "password": "nope"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


def test_five_failures_lock_the_username_for_fifteen_minutes(web_client, make_user, session):
    make_user(username="wang", password=PASSWORD)
    for _ in range(4):
        assert web_client.post("/login", {"username": "wang", "password": "x"}).status_code == 401
    locked = web_client.post("/login", {"username": "wang", "password": "x"})
    assert locked.status_code == 429
    # Even the right password is refused while the lock lasts ...
    right = web_client.post("/login", {"username": "wang", "password": PASSWORD})
    assert right.status_code == 429 and "登录失败次数过多" in right.text
    # ... and accepted once it has passed.
    with clock.frozen_at(clock.now() + timedelta(minutes=16)):
        after = web_client.post("/login", {"username": "wang", "password": PASSWORD})
    assert after.status_code == 302


def test_a_post_without_the_csrf_token_is_refused(app, make_user):
    make_user(username="wang", password=PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"username": "wang", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.text


def test_language_switch_changes_every_page_and_is_remembered(web_client, make_user):
    make_user(username="wang", password=PASSWORD)
    assert "登录" in web_client.get("/login").text
    web_client.post("/language", {"lang": "en", "next": "/login"})
    assert "Sign in to Weft CRM" in web_client.get("/login").text
    web_client.post("/login", {"username": "wang", "password": PASSWORD})
    page = web_client.get("/inbox").text
    assert "My tasks" in page and "Available to my roles" in page
    web_client.post("/language", {"lang": "zh_CN"})
    assert "我的任务" in web_client.get("/inbox").text


def test_the_company_default_language_applies_until_a_reader_chooses(
    web_client, make_user, session
):
    admin = make_user("admin")
    assert "登录" in web_client.get("/login").text
    update_settings(session, admin, {"ui.default_language": "en"})
    session.commit()
    assert "Sign in to Weft CRM" in web_client.get("/login").text
    web_client.post("/language", {"lang": "zh_CN", "next": "/login"})
    assert "登录" in web_client.get("/login").text  # the reader's own choice wins


def test_inbox_tabs_counts_overdue_first_and_claim(signed_in, quote_process, session):
    web = signed_in("salesperson")
    late = quote_process(web.user)
    fresh = quote_process(web.user)
    late_task = _open_task(session, late.id, "prepare_quote")
    late_task.due_at = clock.now() - timedelta(hours=3)
    session.commit()

    page = web.get("/inbox?tab=available").text
    assert 'data-testid="count-available">2<' in page
    assert 'data-testid="count-mine">0<' in page
    assert page.index(f"#{late.id}") < page.index(f"#{fresh.id}")
    assert "task-row overdue" in page and "已逾期" in page

    claimed = web.post(f"/tasks/{late_task.id}/claim")
    assert claimed.status_code == 302
    mine = web.get("/inbox").text
    assert 'data-testid="count-mine">1<' in mine
    assert 'data-testid="count-available">1<' in mine


def test_inbox_filters_and_keyset_paging(signed_in, quote_process, session):
    web = signed_in("salesperson")
    instances = [quote_process(web.user) for _ in range(30)]
    first = web.get("/inbox?tab=available").text
    assert first.count('data-testid="task-row"') == 25
    cursor = re.search(r'after=([\w-]+)[^>]*data-testid="next-page"', first).group(1)
    second = web.get(f"/inbox?tab=available&after={cursor}").text
    assert second.count('data-testid="task-row"') == 5
    assert web.get(f"/inbox?tab=available&q={instances[3].id}").text.count("task-row") >= 1
    assert "没有等待" in web.get("/inbox?tab=available&due=overdue").text
    assert "没有等待" in web.get("/inbox?tab=available&process=other").text
    partial = web.client.get(
        "/inbox?tab=available&priority=high",
        headers={"HX-Request": "true", "HX-Target": "inbox-list"},
    )
    assert "<html" not in partial.text and "没有等待" in partial.text


def test_task_form_keeps_input_and_shows_translated_errors(signed_in, quote_process, session):
    web = signed_in("salesperson")
    instance = quote_process(web.user)
    task = _open_task(session, instance.id, "prepare_quote")
    page = web.get(f"/tasks/{task.id}").text
    assert "准备报价" in page and "填写标价和报价" in page  # Chinese half of the BPMN texts
    assert "标价（元）" in page and "给客户的成交价" in page and 'class="required"' in page

    bad = web.post(
        f"/tasks/{task.id}/complete",
        {"customer_name": "苏州锦程", "product": "", "list_price": "abc", "quoted_price": "90"},
    )
    assert bad.status_code == 422
    assert "此项为必填项" in bad.text  # product
    assert "请输入数字" in bad.text  # list_price
    assert 'value="苏州锦程"' in bad.text and 'value="abc"' in bad.text

    good = web.post(
        f"/tasks/{task.id}/complete",
        {"customer_name": "苏州锦程", "product": "棉布", "list_price": "100", "quoted_price": "80"},
    )
    assert good.status_code == 302
    session.expire_all()
    assert session.get(HumanTask, task.id).status == "completed"


def test_someone_else_completing_first_gets_a_friendly_message(
    signed_in, make_user, quote_process, session
):
    first = signed_in("salesperson")
    second = signed_in("salesperson")
    instance = quote_process(first.user)
    task = _open_task(session, instance.id, "prepare_quote")
    form = {"customer_name": "A", "product": "B", "list_price": "100", "quoted_price": "95"}
    second.get(f"/tasks/{task.id}")
    assert first.post(f"/tasks/{task.id}/complete", form).status_code == 302
    late = second.post(f"/tasks/{task.id}/complete", form)
    assert late.status_code == 409
    assert "完成了此任务" in late.text and first.user.display_name in late.text
    assert 'data-testid="task-form"' not in late.text


def test_claimed_by_another_shows_who(signed_in, quote_process, session):
    holder = signed_in("salesperson")
    other = signed_in("salesperson")
    task = _open_task(session, quote_process(holder.user).id, "prepare_quote")
    holder.post(f"/tasks/{task.id}/claim")
    late = other.post(f"/tasks/{task.id}/claim")
    assert late.status_code == 409 and "已认领此任务" in late.text


def test_a_task_of_another_role_is_not_shown(signed_in, quote_process, session):
    sales = signed_in("salesperson")
    service = signed_in("service_agent")
    task = _open_task(session, quote_process(sales.user).id, "prepare_quote")
    response = service.get(f"/tasks/{task.id}")
    assert response.status_code == 403 and "<html" in response.text
    assert service.get("/tasks/not-a-task").status_code == 404


def test_notifications_list_mark_read_and_header_count(signed_in, session):
    web = signed_in("salesperson")
    notify(
        session, [web.user.id], "报价已批准", "报价 #12 已由李强批准", link="/inbox", email=False
    )
    notify(session, [web.user.id], "新任务", email=False)
    session.commit()
    page = web.get("/notifications").text
    assert 'data-testid="unread-count">2<' in page
    assert page.count('data-testid="notification"') == 2
    first_id = re.search(r"/notifications/(\d+)/read", page).group(1)
    web.post(f"/notifications/{first_id}/read")
    assert 'data-testid="unread-count">1<' in web.get("/inbox").text
    web.post("/notifications/read-all")
    assert 'data-testid="unread-count"' not in web.get("/inbox").text


def test_password_change_rules_and_other_sessions_end(app, signed_in):
    web = signed_in("salesperson")
    other = Browserless(app.test_client())
    other.post("/login", {"username": web.user.username, "password": PASSWORD})
    assert other.get("/inbox").status_code == 200

    weak = web.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 422 and "至少 8 个字符" in weak.text
    changed = web.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "new-pass-2026",
            "confirm_password": "new-pass-2026",
        },
    )
    assert changed.status_code == 302
    assert web.get("/inbox").status_code == 200
    assert other.get("/inbox").status_code == 302  # signed out elsewhere


def test_logout(signed_in):
    web = signed_in("salesperson")
    assert web.post("/logout").status_code == 302
    assert web.get("/inbox").status_code == 302


def test_remember_me_sets_a_lasting_cookie_only_when_asked(app, make_user):
    make_user(username="wang", password=PASSWORD)
    plain = Browserless(app.test_client())
    plain.post("/login", {"username": "wang", "password": PASSWORD})
    assert plain.client.get_cookie("remember_token") is None
    remembered = Browserless(app.test_client())
    remembered.post("/login", {"username": "wang", "password": PASSWORD, "remember": "on"})
    cookie = remembered.client.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only and cookie.expires is not None
    # A browser that kept only the remember cookie is still signed in.
    again = app.test_client()
    again.set_cookie("remember_token", cookie.value)
    assert again.get("/inbox").status_code == 200


def test_browser_assets_are_served_locally(client):
    assert client.get("/static/vendor/htmx.org/dist/htmx.min.js").status_code == 200
    assert client.get("/static/vendor/@picocss/pico/css/pico.min.css").status_code == 200
    assert client.get("/static/weft.css").status_code == 200
    assert client.get("/static/vendor/left-pad/index.js").status_code == 404


def test_dates_numbers_and_money_follow_the_language(app):
    from datetime import UTC, datetime

    from web.ui.i18n import money, number, when

    instant = datetime(2026, 3, 5, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai
    with app.test_request_context("/", headers={"Cookie": "weft_lang=zh_CN"}):
        assert money("1234.5") == "¥1,234.50"
        assert "2026" in when(instant, "short") and "14:30" in when(instant, "short")
        assert number(1234567.25) == "1,234,567.25"
    with app.test_request_context("/", headers={"Cookie": "weft_lang=en"}):
        assert money("1234.5") == "CN¥1,234.50"
        assert when(instant, "short").startswith("3/5/26") and "2:30" in when(instant, "short")


def test_api_errors_stay_json_and_pages_get_html(client, signed_in):
    assert client.get("/api/v1/nothing-here").get_json()["error"]["code"] == "not_found"
    web = signed_in("salesperson")
    page = web.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in page.text


def test_hand_back_makes_the_task_available_again(signed_in, quote_process, session):
    web = signed_in("salesperson")
    task = _open_task(session, quote_process(web.user).id, "prepare_quote")
    web.post(f"/tasks/{task.id}/claim")
    assert "退回任务" in web.get(f"/tasks/{task.id}").text
    back = web.post(f"/tasks/{task.id}/unclaim")
    assert back.status_code == 302 and "tab=available" in back.headers["Location"]
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee_id is None
    assert "等待角色 销售员 认领" in web.get(f"/tasks/{task.id}").text


def test_customer_filter_finds_tasks_by_name_or_pinyin_within_scope(
    signed_in, quote_process, session
):
    from crm_domain.access import actor_for
    from crm_domain.record_service import create_record

    web = signed_in("salesperson")
    customer = create_record(
        session, actor_for(session, web.user), "customers", {"name": "苏州锦程服饰有限公司"}
    )
    session.commit()
    about = quote_process(web.user, customer_id=customer.id)
    other = quote_process(web.user)
    for text in ("锦程", "szjc"):
        page = web.get(f"/inbox?tab=available&customer={text}").text
        assert f"#{about.id}<" in page and f"#{other.id}<" not in page
        assert "苏州锦程服饰有限公司" in page
    # A colleague outside the customer's data scope finds nothing by it.
    peer = signed_in("salesperson")
    assert "没有等待" in peer.get("/inbox?tab=available&customer=锦程").text


def test_reference_lookup_offers_records_in_scope(signed_in, session):
    from crm_domain.access import actor_for
    from crm_domain.record_service import create_record

    web = signed_in("salesperson")
    customer = create_record(
        session, actor_for(session, web.user), "customers", {"name": "常熟华美面料厂"}
    )
    session.commit()
    options = web.get("/tasks/lookup/customers?field=buyer&buyer=华美").text
    assert f'<option value="{customer.id} · 常熟华美面料厂">' in options
    peer = signed_in("salesperson")
    assert "常熟华美" not in peer.get("/tasks/lookup/customers?field=buyer&buyer=华美").text
    assert peer.get("/tasks/lookup/no-such-collection?field=x&x=1").status_code == 200
