"""A decimal field may name a configured precision ("places": "quantity" / "money") instead of a
number: the caller says what it stands for today, and more decimals are refused, not rounded."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from admin.designer.form_editor import PLACES_CHOICES, definition_from_form, rows_of
from core.errors import Invalid
from crm_domain.sales import quantity_places_message
from crm_domain.settings import SETTINGS
from engine.form_places import PLACES_SETTINGS
from forms.definitions import NAMED_PLACES, named_places, validate_form_definition
from forms.submission import load_submission


def field(name: str, kind: str = "decimal", **options) -> dict:
    return {"name": name, "type": kind, "label": {"zh": f"字段{name}", "en": name}, **options}


def form(*fields: dict) -> dict:
    return validate_form_definition({"key": "quote", "title": "Quote", "fields": list(fields)})


QUOTE = form(
    field("qty", places="quantity", min=0.001),
    field("price", places="money", min=0),
    field("discount", places=2),
    field("note", "text"),
)


def errors_of(definition: dict, data: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        load_submission(definition, data, **kwargs)
    assert info.value.status == 422
    return info.value.details


def definition_errors(*fields: dict) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        form(*fields)
    return info.value.details


# --- definitions ----------------------------------------------------------------------------


def test_a_decimal_field_may_name_a_configured_precision():
    specs = {spec["name"]: spec for spec in QUOTE["fields"]}
    assert specs["qty"]["places"] == "quantity" and specs["price"]["places"] == "money"
    assert specs["discount"]["places"] == 2
    assert named_places(QUOTE) == {"quantity", "money"}
    assert named_places(form(field("d", places=3), field("n", "integer"))) == set()
    assert named_places(None) == set()


@pytest.mark.parametrize(
    "spec, message",
    [
        (field("a", places="pieces"), 'or "quantity" or "money"'),
        (field("a", places="Quantity"), "from 0 to 8"),
        (field("a", places=9), "from 0 to 8"),
        (field("a", places=-1), "from 0 to 8"),
        (field("a", places=True), "from 0 to 8"),
        (field("a", places="²"), "from 0 to 8"),  # str.isdigit(), yet int() refuses it
        (field("a", places="٣"), "from 0 to 8"),  # an Arabic-Indic 3: ASCII digits only
        (field("a", places="9" * 5000), "from 0 to 8"),  # more digits than int() reads
        (field("a", places=1.5), "from 0 to 8"),
        (field("a", "integer", places="quantity"), "Only decimal fields have places."),
        (field("a", "text", places="money"), "Only decimal fields have places."),
    ],
)
def test_places_is_a_number_or_one_of_the_names(spec, message):
    errors = definition_errors(spec)
    assert any(message in m for m in errors["fields.0.places"]), errors


def test_a_default_is_checked_at_upload_but_not_against_a_setting_of_the_day():
    # 1.5 may or may not fit the quantity setting when the form is used: checked then.
    assert form(field("q", places="quantity", default=1.5))["fields"][0]["default"] == 1.5
    errors = definition_errors(field("q", places="quantity", default="many"))
    assert errors == {"fields.0.default": ["Enter a number."]}
    errors = definition_errors(field("q", places="quantity", min=1, default=0.5))
    assert errors == {"fields.0.default": ["Enter a value of at least 1."]}


# --- submissions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "places, submitted, stored",
    [
        ({"quantity": 0, "money": 2}, {"qty": "2"}, {"qty": 2.0}),
        ({"quantity": 0, "money": 2}, {"qty": "12.000"}, {"qty": 12.0}),  # zeros don't count
        ({"quantity": 0, "money": 2}, {"qty": 7}, {"qty": 7.0}),
        ({"quantity": 2, "money": 2}, {"qty": "1.5"}, {"qty": 1.5}),
        ({"quantity": 2, "money": 2}, {"qty": 1.25}, {"qty": 1.25}),
        (
            {"quantity": 3, "money": 0},
            {"qty": " 0.125 ", "price": "80"},
            {"qty": 0.125, "price": 80.0},
        ),
        ({"quantity": 3, "money": 4}, {"price": "12.3456"}, {"price": 12.3456}),
        ({"quantity": 3, "money": 2}, {"qty": 1, "price": ""}, {"qty": 1.0, "price": None}),
    ],
)
def test_values_within_the_configured_places_are_taken_as_they_are(places, submitted, stored):
    cleaned = load_submission(QUOTE, submitted, places=places)
    assert cleaned == stored
    assert all(type(cleaned[k]) is type(v) for k, v in stored.items())


@pytest.mark.parametrize(
    "places, submitted, errors",
    [
        ({"quantity": 0, "money": 2}, {"qty": "1.5"}, {"qty": ["Enter a whole number."]}),
        ({"quantity": 0, "money": 2}, {"qty": 0.5}, {"qty": ["Enter a whole number."]}),
        (
            {"quantity": 2, "money": 2},
            {"qty": "1.125"},
            {"qty": ["Enter a quantity with at most 2 decimal places."]},
        ),
        (
            {"quantity": 3, "money": 2},
            {"qty": "1e-30"},
            {"qty": ["Enter a quantity with at most 3 decimal places."]},
        ),
        (
            {"quantity": 1, "money": 2},
            {"qty": "2.25", "price": "9.999"},
            {
                "qty": ["Enter a quantity with at most 1 decimal places."],
                "price": ["Enter an amount with at most 2 decimal places."],
            },
        ),
        (
            {"quantity": 3, "money": 0},
            {"qty": 1, "price": "9.5"},
            {"price": ["Enter a whole number."]},
        ),
        ({"quantity": 3, "money": 2}, {"qty": "1e30"}, {"qty": ["Enter a number."]}),
        ({"quantity": 3, "money": 2}, {"qty": "NaN"}, {"qty": ["Enter a number."]}),
        ({"quantity": 3, "money": 2}, {"qty": "一百"}, {"qty": ["Enter a number."]}),
        ({"quantity": 3, "money": 2}, {"qty": "0"}, {"qty": ["Enter a value of at least 0.001."]}),
        ({"quantity": 0, "money": 2}, {"qty": "-1"}, {"qty": ["Enter a value of at least 0.001."]}),
    ],
)
def test_more_decimals_than_configured_are_refused_on_the_field(places, submitted, errors):
    assert errors_of(QUOTE, submitted, places=places) == errors


def test_fixed_places_still_round_half_up():
    places = {"quantity": 0, "money": 0}
    assert load_submission(QUOTE, {"discount": "2.675"}, places=places) == {"discount": 2.68}


def test_a_change_of_the_setting_applies_to_the_next_submission():
    """The same form checked with 0 and then 2 places: no checker kept from the first."""
    whole = {"qty": ["Enter a whole number."]}
    assert errors_of(QUOTE, {"qty": "1.5"}, places={"quantity": 0, "money": 2}) == whole
    assert load_submission(QUOTE, {"qty": "1.5"}, places={"quantity": 2, "money": 2}) == {
        "qty": 1.5
    }
    assert errors_of(QUOTE, {"qty": "1.5"}, places={"quantity": 0, "money": 2}) == whole


def test_the_wording_is_the_apis_for_quote_lines():
    for places in (0, 1, 3):
        assert errors_of(
            form(field("q", places="quantity")), {"q": "0.1234"}, places={"quantity": places}
        ) == {"q": [quantity_places_message(places)]}


@pytest.mark.parametrize("places", [None, {}, {"money": 2}, {"quantity": "2"}, {"quantity": 9}])
def test_a_form_naming_a_precision_cannot_be_checked_without_its_places(places):
    with pytest.raises(ValueError, match="load_submission needs places="):
        load_submission(QUOTE, {"qty": 1}, places=places)


def test_forms_that_name_no_precision_need_no_places():
    plain = form(field("d", places=1), field("n", "integer"))
    assert load_submission(plain, {"d": "1.25", "n": "3"}) == {"d": 1.3, "n": 3}
    assert load_submission(plain, {"d": "1.25"}, places={"quantity": 0}) == {"d": 1.3}


def test_every_name_stands_for_a_system_setting():
    assert set(PLACES_SETTINGS) == set(NAMED_PLACES)
    assert all(key in SETTINGS for key in PLACES_SETTINGS.values())


# --- the designer's form editor ---------------------------------------------------------------


def editor_row(name: str, kind: str = "decimal", places: str | None = None) -> dict:
    """One row of the posted editor; `places` None: the row has no places input."""
    row = {"name": name, "type": kind, "label_zh": f"字段{name}", "label_en": name}
    return row if places is None else {**row, "places": places}


def editor_post(*rows: dict) -> MultiDict:
    posted = MultiDict()
    for index, row in enumerate(rows):
        for key, value in row.items():
            posted[f"field-{index}-{key}"] = value
    return posted


def test_the_form_editor_shows_and_keeps_a_named_precision():
    rows = rows_of(QUOTE)
    assert [row["places"] for row in rows[:4]] == ["quantity", "money", "2", ""]
    assert rows[-1]["places"] == ""  # an empty row for a new field
    assert {"", "0", "8", "quantity", "money"} <= set(PLACES_CHOICES)

    posted = editor_post(
        editor_row("qty", places="0"),
        editor_row("price"),
        editor_row("discount", places="quantity"),
        editor_row("note", places=""),
        editor_row("extra", "text", places="money"),
    )
    edited = {spec["name"]: spec for spec in definition_from_form(posted, QUOTE)["fields"]}
    assert edited["qty"]["places"] == 0
    assert edited["price"]["places"] == "money"  # no places input: what the JSON says is kept
    assert edited["discount"]["places"] == "quantity"
    assert "places" not in edited["note"]  # the default
    assert "places" not in edited["extra"]  # only decimals have places
    checked = validate_form_definition(
        {"key": "quote", "title": "Quote", "fields": list(edited.values())}
    )
    assert named_places(checked) == {"money", "quantity"}


def test_the_form_editor_leaves_digits_of_other_scripts_to_the_check():
    posted = editor_post(editor_row("qty", places="²"))
    [qty] = definition_from_form(posted, QUOTE)["fields"]
    assert qty["places"] == "²"  # kept as typed, for the check to refuse on the field
    errors = definition_errors(qty)
    assert any("from 0 to 8" in m for m in errors["fields.0.places"]), errors


def test_a_field_that_stops_being_a_decimal_loses_its_places():
    posted = editor_post(editor_row("qty", "integer", places="3"))
    [qty] = definition_from_form(posted, QUOTE)["fields"]
    assert qty["type"] == "integer" and "places" not in qty
