"""Every field type of a form definition drawn as an input, and posted back as plain values."""

from __future__ import annotations

from flask import render_template_string
from werkzeug.datastructures import MultiDict

from core.errors import Invalid
from forms.definitions import validate_form_definition
from forms.submission import load_submission
from web.ui.task_form import field_views, submitted_data

FORM = validate_form_definition(
    {
        "key": "every_type",
        "title": {"zh": "全部类型", "en": "Every type"},
        "fields": [
            {
                "name": "title",
                "type": "text",
                "required": True,
                "label": {"zh": "标题", "en": "Title"},
                "help": {"zh": "简短说明", "en": "Short"},
            },
            {"name": "notes", "type": "long_text", "label": {"zh": "备注", "en": "Notes"}},
            {"name": "qty", "type": "integer", "min": 1, "label": {"zh": "数量", "en": "Quantity"}},
            {"name": "price", "type": "decimal", "label": {"zh": "单价", "en": "Price"}},
            {"name": "ship_on", "type": "date", "label": {"zh": "发货日期", "en": "Ship on"}},
            {"name": "call_at", "type": "datetime", "label": {"zh": "回访时间", "en": "Call at"}},
            {"name": "urgent", "type": "boolean", "label": {"zh": "加急", "en": "Urgent"}},
            {
                "name": "channel",
                "type": "choice",
                "label": {"zh": "渠道", "en": "Channel"},
                "choices": [
                    {"value": v, "label": {"zh": z, "en": v}}
                    for v, z in [
                        ("phone", "电话"),
                        ("wechat", "微信"),
                        ("visit", "拜访"),
                        ("email", "邮件"),
                        ("fair", "展会"),
                    ]
                ],
            },
            {
                "name": "colors",
                "type": "multi_choice",
                "label": {"zh": "颜色", "en": "Colours"},
                "choices": [
                    {"value": "red", "label": {"zh": "红", "en": "Red"}},
                    {"value": "blue", "label": {"zh": "蓝", "en": "Blue"}},
                ],
            },
            {"name": "mail", "type": "email", "label": {"zh": "邮箱", "en": "E-mail"}},
            {"name": "tel", "type": "phone", "label": {"zh": "电话", "en": "Phone"}},
            {
                "name": "customer",
                "type": "reference",
                "collection": "customers",
                "label": {"zh": "客户", "en": "Customer"},
            },
            {
                "name": "ref_no",
                "type": "text",
                "readonly": True,
                "label": {"zh": "单号", "en": "No."},
            },
        ],
    }
)
MACRO = (
    '{% from "ui/_fields.html" import field_input %}'
    "{% for f in fields %}{{ field_input(f) }}{% endfor %}"
)


def _render(app, lang: str, data: dict, posted=None, errors=None) -> str:
    with app.test_request_context("/tasks/x", headers={"Cookie": f"weft_lang={lang}"}):
        fields = field_views(FORM, data, posted, errors)
        return render_template_string(MACRO, fields=fields)


def test_every_field_type_has_its_input_with_chinese_labels(app):
    html = _render(app, "zh_CN", {"ref_no": "Q-2026-001", "qty": 3})
    assert 'name="title"' in html and "标题" in html and "简短说明" in html
    assert 'class="required"' in html.split('data-field="notes"')[0]  # title is required
    assert '<textarea rows="4" name="notes"' in html
    assert 'name="qty"' in html and 'inputmode="numeric"' in html and 'value="3"' in html
    assert 'inputmode="decimal"' in html
    assert 'type="date" name="ship_on"' in html
    assert 'type="datetime-local" name="call_at"' in html
    assert 'type="checkbox" role="switch" name="urgent"' in html
    assert '<select name="channel"' in html and "微信" in html  # five choices: a list
    assert html.count('type="checkbox" name="colors"') == 2 and "蓝" in html
    assert 'type="email" name="mail"' in html and 'type="tel" name="tel"' in html
    assert 'list="l-customer"' in html and "/tasks/lookup/customers" in html
    assert 'name="ref_no" id="f-ref_no" disabled' in html and "Q-2026-001" in html


def test_labels_follow_the_language(app):
    html = _render(app, "en", {})
    assert "Ship on" in html and "发货日期" not in html


def test_posted_inputs_become_the_values_the_validator_takes(app):
    posted = MultiDict(
        [
            ("title", "回访"),
            ("qty", "2"),
            ("price", "12.5"),
            ("ship_on", "2026-12-01"),
            ("call_at", "2026-12-01T09:30"),
            ("channel", "wechat"),
            ("colors", "red"),
            ("colors", "blue"),
            ("customer", "17 · 苏州锦程服饰有限公司"),
            ("ref_no", "forged"),
        ]
    )
    with app.test_request_context("/"):
        data = submitted_data(FORM, posted)
    assert data["urgent"] is False  # an unchecked box is "no"
    assert data["call_at"] == "2026-12-01T01:30:00+00:00"  # Shanghai time to UTC
    assert data["colors"] == ["red", "blue"]
    assert data["customer"] == "17"
    assert "ref_no" not in data  # read-only fields are never taken from the browser
    cleaned = load_submission(FORM, data)
    assert cleaned["customer"] == 17 and cleaned["price"] == 12.5 and cleaned["qty"] == 2


def test_after_an_error_the_users_own_input_is_shown(app):
    posted = MultiDict([("title", ""), ("qty", "zero"), ("colors", "blue")])
    with app.test_request_context("/"):
        try:
            load_submission(FORM, submitted_data(FORM, posted))
        except Invalid as error:
            details = error.details
    html = _render(app, "zh_CN", {}, posted, details)
    assert "此项为必填项" in html and "请输入整数" in html
    assert 'value="zero"' in html
    assert 'value="blue" checked' in html
