"""The browser's task form follows the configured places: the sales quote's inputs step by the
setting of the day, a fraction at 0 places comes back as a field error in the reader's language
with the input kept; the designer's form editor shows and changes a field's places."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from crm_domain.settings import update_settings
from engine.models import ProcessDefinition
from tests.processes.sales_support import PREPARE_QUOTE, sales_team


@pytest.fixture
def team(session, make_user, api_as, session_factory):
    return sales_team(session, make_user, api_as, session_factory)


@pytest.fixture
def quote_task(team) -> str:
    """A sale at *Prepare the quote*; the task's id."""
    started = team.start_lead()
    team.qualify(started["id"])
    return team.task(team.sales, started["id"], PREPARE_QUOTE)["id"]


def set_places(session, **places: int) -> None:
    update_settings(session, None, {f"{k}.decimal_places": v for k, v in places.items()})
    session.commit()


def input_of(html: str, name: str) -> str:
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name}"
    return match.group(0)


def attribute(tag: str, name: str) -> str | None:
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return match.group(1) if match else None


def errors_under(html: str, name: str) -> list[str]:
    block = html.split(f'data-field="{name}"', 1)[1].split('<div class="form-field', 1)[0]
    return [unescape(m) for m in re.findall(r'class="field-error"[^>]*>([^<]*)<', block)]


def test_number_inputs_step_by_the_places_configured_today(signed_in, team, quote_task, session):
    web = signed_in(user=team.sales.user, lang="en")
    set_places(session, quantity=0)
    html = web.get(f"/tasks/{quote_task}").text
    quantity, price = input_of(html, "quantity_1"), input_of(html, "unit_price_1")
    assert attribute(quantity, "step") == "1" and attribute(quantity, "inputmode") == "numeric"
    assert attribute(price, "step") == "0.01" and attribute(price, "inputmode") == "decimal"
    assert attribute(input_of(html, "discount_percent"), "step") == "0.01"  # fixed places
    assert attribute(quantity, "type") == "text"  # a mistyped value is kept and reported

    set_places(session, quantity=2, money=4)
    html = web.get(f"/tasks/{quote_task}").text
    assert attribute(input_of(html, "quantity_2"), "step") == "0.01"
    assert attribute(input_of(html, "unit_price_3"), "step") == "0.0001"


def test_a_fraction_at_whole_quantities_is_a_field_error_in_the_readers_language(
    signed_in, team, quote_task, session
):
    set_places(session, quantity=0)
    web = signed_in(user=team.sales.user, lang="zh_CN")
    web.get(f"/tasks/{quote_task}")
    posted = {"product_1": str(team.product["id"]), "quantity_1": "1.5", "unit_price_1": "9.999"}
    page = web.post(f"/tasks/{quote_task}/complete", posted)
    assert page.status_code == 422
    assert errors_under(page.text, "quantity_1") == ["请输入整数。"]
    assert errors_under(page.text, "unit_price_1") == ["金额最多保留 2 位小数。"]
    assert attribute(input_of(page.text, "quantity_1"), "value") == "1.5"  # nothing lost
    assert team.sales.get(f"/api/v1/tasks/{quote_task}").get_json()["status"] == "open"

    set_places(session, quantity=2)
    web = signed_in(user=team.sales.user, lang="en")
    web.get(f"/tasks/{quote_task}")
    page = web.post(f"/tasks/{quote_task}/complete", {**posted, "quantity_1": "1.125"})
    assert errors_under(page.text, "quantity_1") == [
        "Enter a quantity with at most 2 decimal places."
    ]
    page = web.post(f"/tasks/{quote_task}/complete", {**posted, "unit_price_1": "9.99"})
    assert page.status_code == 302
    assert team.sales.get(f"/api/v1/tasks/{quote_task}").get_json()["status"] == "completed"


def editor_rows(html: str) -> dict[str, str]:
    """field name -> the places option selected in its row."""
    rows = {}
    for index, name in re.findall(r'name="field-(\d+)-name" value="([^"]*)"', html):
        select_html = html.split(f'name="field-{index}-places"', 1)[1].split("</select>", 1)[0]
        chosen = re.search(r'<option value="([^"]*)" selected>', select_html)
        rows[name] = chosen.group(1) if chosen else None
    return rows


@pytest.mark.parametrize(
    "lang, quantity_label",
    [("en", "Quantity setting (3)"), ("zh_CN", "数量设置（3 位）")],
)
def test_the_form_editor_shows_a_named_precision(signed_in, team, lang, quantity_label):
    web = signed_in("process_designer", lang=lang)
    html = web.get("/designer/processes/sales/forms/sales_quote").text
    rows = editor_rows(html)
    assert rows["quantity_1"] == "quantity" and rows["unit_price_1"] == "money"
    assert rows["discount_percent"] == "2"
    assert quantity_label in unescape(html)


def test_the_form_editor_changes_a_fields_places_and_deploys_it(signed_in, team, session):
    web = signed_in("process_designer", lang="en")
    url = "/designer/processes/sales/forms/sales_quote"
    shipped = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "sales"))
    specs = shipped.forms["sales_quote"]["fields"]
    row = {spec["name"]: index for index, spec in enumerate(specs)}
    form = {"action": "deploy"}
    for index, spec in enumerate(specs):
        form.update(
            {
                f"field-{index}-name": spec["name"],
                f"field-{index}-type": spec["type"],
                f"field-{index}-label_zh": spec["label"]["zh"],
                f"field-{index}-label_en": spec["label"]["en"],
                f"field-{index}-places": str(spec.get("places", "")),
            }
        )
        if spec.get("required"):
            form[f"field-{index}-required"] = "1"
    web.get(url)
    for places in ("pieces", "²"):  # "²" is str.isdigit(), yet int() refuses it
        broken = web.post(url, {**form, f"field-{row['quantity_1']}-places": places})
        assert broken.status_code == 422 and 'data-testid="validation-report"' in broken.text

    changed = {**form, f"field-{row['discount_percent']}-places": "money"}
    assert web.post(url, changed).status_code == 302
    session.expire_all()
    current = session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.key == "sales", ProcessDefinition.is_current
        )
    )
    assert current.version == 2
    fields = {spec["name"]: spec for spec in current.forms["sales_quote"]["fields"]}
    assert fields["discount_percent"]["places"] == "money"
    assert fields["quantity_1"]["places"] == "quantity"
    assert fields["discount_percent"]["max"] == 100  # what the editor does not show is kept
