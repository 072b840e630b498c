"""forms: what a designer may upload as a task form, and what a user may submit through one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT
from core.errors import Invalid
from forms.definitions import load_form_file, validate_form_definition
from forms.submission import REQUIRED, field_errors, load_submission

SHIPPED_FORMS = sorted((PROJECT_ROOT / "processes" / "approval").glob("*.json"))


def field(name: str, kind: str, **options) -> dict:
    return {"name": name, "type": kind, "label": {"zh": f"字段{name}", "en": name}, **options}


def form(*fields: dict) -> dict:
    return validate_form_definition({"key": "test_form", "title": "Test", "fields": list(fields)})


def errors_of(definition: dict, data, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        load_submission(definition, data, **kwargs)
    assert info.value.status == 422
    return info.value.details


def definition_errors(definition) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        validate_form_definition(definition)
    return info.value.details


def file_errors(content: bytes) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as info:
        load_form_file(content, "quote.json")
    return info.value.details


CHOICES = [
    {"value": 3, "label": {"zh": "三", "en": "three"}},
    {"value": "gold", "label": {"zh": "金", "en": "gold"}},
]


# --- submissions: each field type -----------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, submitted, stored",
    [
        (field("a", "text"), "  ACME Ltd  ", "ACME Ltd"),
        (field("a", "text"), "", ""),
        (field("a", "long_text"), "line one\nline two", "line one\nline two"),
        (field("a", "integer"), 42, 42),
        (field("a", "integer"), "42", 42),
        (field("a", "integer"), 7.0, 7),
        (field("a", "integer"), "", None),
        (field("a", "decimal", places=2), 2.675, 2.68),
        (field("a", "decimal", places=2), "2.665", 2.67),
        (field("a", "decimal", places=2), "-2.675", -2.68),
        (field("a", "decimal", places=0), "12.5", 13.0),
        (field("a", "decimal", places=3), "1.23449", 1.234),
        (field("a", "decimal"), "0.125", 0.13),  # places defaults to 2
        (field("a", "decimal", places=2), "-0.001", 0.0),
        (field("a", "decimal"), "1e3", 1000.0),
        (field("a", "date"), "2026-02-28", "2026-02-28"),
        (field("a", "date"), " 2026-02-28 ", "2026-02-28"),
        (field("a", "datetime"), "2026-03-01T10:00:00+08:00", "2026-03-01T02:00:00+00:00"),
        (field("a", "datetime"), "2026-03-01T10:00:00Z", "2026-03-01T10:00:00+00:00"),
        (field("a", "datetime"), "2026-03-01T10:00:00", "2026-03-01T10:00:00+00:00"),
        (field("a", "boolean"), True, True),
        (field("a", "boolean"), "false", False),
        (field("a", "boolean"), "yes", True),
        (field("a", "boolean"), "", None),
        (field("a", "choice", choices=CHOICES), 3, 3),
        (field("a", "choice", choices=CHOICES), "3", 3),
        (field("a", "choice", choices=CHOICES), "gold", "gold"),
        (field("a", "choice", choices=CHOICES), "", None),
        (field("a", "multi_choice", choices=CHOICES), ["3", "gold"], [3, "gold"]),
        (field("a", "multi_choice", choices=CHOICES), [], []),
        (field("a", "email"), " li.wei@example.cn ", "li.wei@example.cn"),
        (field("a", "email"), "", None),
        (field("a", "phone"), "+86 (10) 1234-5678", "+86 (10) 1234-5678"),
        (field("a", "phone"), "", None),
    ],
)
def test_valid_values_are_cleaned_to_json_native_data(spec, submitted, stored):
    cleaned = load_submission(form(spec), {"a": submitted})
    assert cleaned == {"a": stored}
    assert type(cleaned["a"]) is type(stored)
    assert json.loads(json.dumps(cleaned)) == cleaned


@pytest.mark.parametrize(
    "spec, submitted, message",
    [
        (field("a", "text"), 5, "Not a valid string."),
        (field("a", "text"), "x" * 201, "Enter at most 200 characters."),
        (field("a", "long_text"), "x" * 10_001, "Enter at most 10000 characters."),
        (field("a", "integer"), 1.5, "Enter a whole number."),
        (field("a", "integer"), "1.5", "Enter a whole number."),
        (field("a", "integer"), "seven", "Enter a whole number."),
        (field("a", "integer"), True, "Enter a whole number."),
        (field("a", "decimal"), "abc", "Enter a number."),
        (field("a", "decimal"), "NaN", "Enter a number."),
        (field("a", "decimal"), "Infinity", "Enter a number."),
        (field("a", "decimal"), False, "Enter a number."),
        (field("a", "date"), "2026-02-30", "Enter a date (YYYY-MM-DD)."),
        (field("a", "date"), "next monday", "Enter a date (YYYY-MM-DD)."),
        (field("a", "date"), "2026-03-01T00:00:00", "Enter a date (YYYY-MM-DD)."),
        (field("a", "datetime"), "2026-03-01 lunch", "Enter a date and time."),
        (field("a", "boolean"), "maybe", "Choose yes or no."),
        (field("a", "choice", choices=CHOICES), "4", "Choose one of the listed options."),
        (field("a", "choice", choices=CHOICES), True, "Choose one of the listed options."),
        (field("a", "choice", choices=CHOICES), 3.0, "Choose one of the listed options."),
        (field("a", "choice", choices=CHOICES), ["3"], "Choose one of the listed options."),
        (field("a", "multi_choice", choices=CHOICES), "3", "Choose from the listed options."),
        (field("a", "multi_choice", choices=CHOICES), [3, "silver"], "listed options"),
        (field("a", "email"), "li.wei@", "Not a valid email address."),
        (field("a", "email"), "a" * 250 + "@x.cn", "Enter at most 254 characters."),
        (field("a", "phone"), "call me", "Not a valid phone number."),
        (field("a", "phone"), "12", "Not a valid phone number."),
    ],
)
def test_invalid_values_get_a_message_on_their_field(spec, submitted, message):
    errors = errors_of(form(spec, field("other", "text")), {"a": submitted, "other": "fine"})
    assert list(errors) == ["a"]
    assert any(message in m for m in errors["a"]), errors


def test_every_bad_field_is_reported_at_once():
    definition = form(field("n", "integer"), field("d", "date"), field("ok", "text"))
    errors = errors_of(definition, {"n": "x", "d": "y", "ok": "fine"})
    assert set(errors) == {"n", "d"}


def test_data_must_be_an_object():
    definition = form(field("a", "text"))
    for data in ("a=1", ["a"], None):
        assert errors_of(definition, data) == {"data": ["Must be an object."]}


# --- required, bounds, unknown and read-only fields -----------------------------------------------

REQUIRED_SPECS = [
    field("t", "text", required=True),
    field("lt", "long_text", required=True),
    field("i", "integer", required=True),
    field("d", "decimal", required=True),
    field("dt", "date", required=True),
    field("ts", "datetime", required=True),
    field("b", "boolean", required=True),
    field("c", "choice", required=True, choices=CHOICES),
    field("m", "multi_choice", required=True, choices=CHOICES),
    field("e", "email", required=True),
    field("p", "phone", required=True),
]
REQUIRED_NAMES = {spec["name"] for spec in REQUIRED_SPECS}


@pytest.mark.parametrize("blank", ["missing", None, "", "   "])
def test_required_fields_refuse_every_kind_of_blank(blank):
    definition = form(*REQUIRED_SPECS)
    data = {} if blank == "missing" else {name: blank for name in REQUIRED_NAMES}
    errors = errors_of(definition, data)
    assert errors == {name: [REQUIRED] for name in REQUIRED_NAMES}


def test_required_multi_choice_refuses_an_empty_list():
    definition = form(field("m", "multi_choice", required=True, choices=CHOICES))
    assert errors_of(definition, {"m": []}) == {"m": [REQUIRED]}


def test_partial_submission_skips_missing_required_fields_only():
    definition = form(*REQUIRED_SPECS)
    assert load_submission(definition, {"t": "draft"}, partial=True) == {"t": "draft"}
    assert errors_of(definition, {"t": "", "i": "x"}, partial=True) == {
        "t": [REQUIRED],
        "i": ["Enter a whole number."],
    }


@pytest.mark.parametrize(
    "spec, good, bad, message",
    [
        (
            field("a", "integer", min=1, max=10),
            [1, 10, "5"],
            [0, 11],
            "Enter a value from 1 to 10.",
        ),
        (field("a", "decimal", min=0.01), [0.01, "0.005"], [0, "0.004"], "at least 0.01"),
        (field("a", "decimal", max=100), [100, -5], [100.01], "at most 100"),
        (field("a", "decimal", max=0.3), [0.3, "0.30", "0.304"], ["0.305"], "at most 0.3"),
        (field("a", "integer", max=5.0), [5], [6], "at most 5"),
        (
            field("a", "date", min="2026-01-01", max="2026-12-31"),
            ["2026-01-01", "2026-12-31"],
            ["2025-12-31", "2027-01-01"],
            "from 2026-01-01 to 2026-12-31",
        ),
        (
            field("a", "datetime", min="2026-01-01T00:00:00Z"),
            ["2026-01-01T08:00:00+08:00", "2026-01-01T00:00:00"],
            ["2026-01-01T07:59:59+08:00"],
            "at least 2026-01-01T00:00:00Z",
        ),
        (field("a", "text", min_length=2, max_length=4), ["ab", "abcd"], ["a", "abcde"], "2 and 4"),
    ],
)
def test_bounds_are_inclusive(spec, good, bad, message):
    definition = form(spec)
    for value in good:
        load_submission(definition, {"a": value})
    for value in bad:
        errors = errors_of(definition, {"a": value})
        assert any(message in m for m in errors["a"]), (value, errors)


def test_an_optional_text_with_min_length_may_be_left_blank():
    definition = form(field("a", "text", min_length=3))
    assert load_submission(definition, {"a": ""}) == {"a": ""}
    assert load_submission(definition, {}) == {}


def test_max_length_counts_characters_not_bytes():
    definition = form(field("a", "text", max_length=4))
    assert load_submission(definition, {"a": "北京上海"}) == {"a": "北京上海"}
    assert errors_of(definition, {"a": "北京上海市"})["a"] == ["Enter at most 4 characters."]


def test_unknown_fields_are_refused_by_name():
    definition = form(field("a", "text"))
    assert errors_of(definition, {"a": "x", "is_admin": True, "price": 0}) == {
        "is_admin": ["Unknown field."],
        "price": ["Unknown field."],
    }


def test_read_only_fields_cannot_be_submitted():
    definition = form(field("a", "text"), field("ro", "decimal", readonly=True, default=9.5))
    assert load_submission(definition, {"a": "x"}) == {"a": "x"}
    assert errors_of(definition, {"a": "x", "ro": 1}) == {"ro": ["This field is read-only."]}


def test_chinese_labels_and_values_round_trip():
    definition = form(
        {
            "name": "customer_name",
            "type": "text",
            "required": True,
            "label": {"zh": "客户名称"},
            "help": {"zh": "填写营业执照上的名称"},
        },
        field(
            "region",
            "choice",
            choices=[
                {"value": "华北", "label": {"zh": "华北"}},
                {"value": "华南", "label": "South"},
            ],
        ),
    )
    assert definition["fields"][0]["label"] == {"zh": "客户名称"}
    assert definition["fields"][1]["choices"][1]["label"] == {"en": "South"}
    cleaned = load_submission(
        definition, {"customer_name": " 北京某某科技有限公司 ", "region": "华南"}
    )
    assert cleaned == {"customer_name": "北京某某科技有限公司", "region": "华南"}


def test_field_errors_checks_one_value():
    spec = form(field("n", "integer", min=1))["fields"][0]
    assert field_errors(spec, 5) == []
    assert field_errors(spec, 0) == ["Enter a value of at least 1."]
    assert field_errors(spec, "x") == ["Enter a whole number."]


# --- definitions ---------------------------------------------------------------------------------


def test_a_valid_definition_gets_its_defaults():
    definition = validate_form_definition(
        {
            "key": "prepare_quote",
            "title": "Prepare quote",
            "fields": [field("price", "decimal"), field("note", "text", label="Note")],
        }
    )
    price, note = definition["fields"]
    assert definition["title"] == {"en": "Prepare quote"}
    assert price["places"] == 2 and price["required"] is False and price["readonly"] is False
    assert note["label"] == {"en": "Note"}
    assert "places" not in note


@pytest.mark.parametrize(
    "fields, path, message",
    [
        ([field("a", "money")], "fields.0.type", "Unknown type"),
        ([field("a", "text"), field("b", "text"), field("a", "date")], "fields.2.name", "twice"),
        ([field("_a", "text")], "fields.0.name", "starting with a letter"),
        ([field("a", "choice")], "fields.0.choices", "at least one choice"),
        ([field("a", "multi_choice", choices=[])], "fields.0.choices", "at least one choice"),
        (
            [field("a", "choice", choices=[CHOICES[0], {**CHOICES[1], "value": 3}])],
            "fields.0.choices",
            "unique",
        ),
        (
            [field("a", "choice", choices=[CHOICES[0], {**CHOICES[1], "value": "3"}])],
            "fields.0.choices",
            "unique",
        ),
        (
            [field("a", "choice", choices=[{"value": True, "label": "yes"}])],
            "fields.0.choices.0.value",
            "non-empty string or an integer",
        ),
        ([field("a", "text", choices=CHOICES)], "fields.0.choices", "Only choice fields"),
        ([field("a", "integer", places=2)], "fields.0.places", "Only decimal fields"),
        ([field("a", "decimal", places=9)], "fields.0.places", "from 0 to 8"),
        ([field("a", "integer", min=5, max=1)], "fields.0.max", "max must not be below min"),
        (
            [field("a", "date", min="2026-02-01", max="2026-01-31")],
            "fields.0.max",
            "max must not be below min",
        ),
        (
            # 01:00Z is after 08:00+08:00 (00:00Z), though not as text
            [field("a", "datetime", min="2026-01-01T01:00:00Z", max="2026-01-01T08:00:00+08:00")],
            "fields.0.max",
            "max must not be below min",
        ),
        ([field("a", "integer", min=1.5)], "fields.0.min", "whole number"),
        ([field("a", "decimal", min="1")], "fields.0.min", "Must be a number"),
        ([field("a", "decimal", max=float("nan"))], "fields.0.max", "finite"),
        ([field("a", "date", min="tomorrow")], "fields.0.min", "ISO date"),
        ([field("a", "text", min=1)], "fields.0.min", "Only number and date fields"),
        ([field("a", "integer", max_length=3)], "fields.0.max_length", "Only text fields"),
        (
            [field("a", "text", min_length=5, max_length=2)],
            "fields.0.max_length",
            "must not be below min_length",
        ),
        ([field("a", "integer", default="x")], "fields.0.default", "Enter a whole number."),
        ([field("a", "integer", min=1, default=0)], "fields.0.default", "at least 1"),
        ([field("a", "choice", choices=CHOICES, default=4)], "fields.0.default", "listed options"),
        ([field("a", "text", required=True, default="")], "fields.0.default", REQUIRED),
        ([field("a", "text", colour="red")], "fields.0.colour", "Unknown field."),
        ([{"name": "a", "type": "text"}], "fields.0.label", "Missing data"),
        ([field("a", "text", label={"fr": "nom"})], "fields.0.label", "Unknown language(s): fr"),
        ([field("a", "text", label={"zh": "  "})], "fields.0.label", "non-empty"),
        (["a"], "fields.0", "Invalid input type"),
    ],
)
def test_definition_errors_point_at_their_path(fields, path, message):
    errors = definition_errors({"key": "k", "title": "T", "fields": fields})
    assert path in errors, errors
    assert any(message in m for m in errors[path]), errors


def test_definition_errors_across_fields_are_reported_together():
    errors = definition_errors(
        {"key": "k", "title": "T", "fields": [field("a", "money"), field("b", "choice")]}
    )
    assert set(errors) == {"fields.0.type", "fields.1.choices"}


@pytest.mark.parametrize(
    "definition, path",
    [
        ({"key": "k", "title": "T", "fields": [], "owner": "me"}, "owner"),
        ({"key": "1st", "title": "T", "fields": []}, "key"),
        ({"key": "k", "fields": []}, "title"),
        ({"key": "k", "title": "T"}, "fields"),
        ({"key": "k", "title": "T", "fields": {}}, "fields"),
        (["not", "an", "object"], ""),
    ],
)
def test_form_level_errors(definition, path):
    assert path in definition_errors(definition)


def test_a_good_default_is_kept():
    definition = form(field("c", "choice", choices=CHOICES, default="3"))
    assert definition["fields"][0]["default"] == "3"


# --- files ---------------------------------------------------------------------------------------


def test_bad_json_reports_line_and_column():
    errors = file_errors(b'{"key": "k",\n "title": }')
    assert errors == {"": ["Not valid JSON: Expecting value (line 2, column 11)."]}


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(Invalid, match=r"quote\.json") as info:
        load_form_file("{}".encode("utf-16"), "quote.json")
    assert info.value.details == {"": ["The file is not UTF-8 text."]}


def test_a_utf8_file_with_a_bom_and_chinese_text_loads():
    content = json.dumps(
        {"key": "k", "title": {"zh": "报价"}, "fields": [field("a", "text")]}, ensure_ascii=False
    ).encode("utf-8-sig")
    assert load_form_file(content, "quote.json")["title"] == {"zh": "报价"}


def test_a_json_array_is_not_a_form():
    assert file_errors(b"[]") == {"": ["A form is a JSON object."]}


def test_file_errors_carry_the_definition_paths():
    content = json.dumps({"key": "k", "title": "T", "fields": [field("a", "choice")]}).encode()
    assert file_errors(content) == {
        "fields.0.choices": ["A choice field needs at least one choice."]
    }


@pytest.mark.parametrize("path", SHIPPED_FORMS, ids=lambda p: p.name)
def test_shipped_forms_load(path: Path):
    definition = load_form_file(path.read_bytes(), path.name)
    assert definition["key"] == path.stem
    assert all({"zh", "en"} <= set(f["label"]) for f in definition["fields"])


def test_shipped_forms_exist():
    assert {p.stem for p in SHIPPED_FORMS} >= {"prepare_quote", "discount_approval"}


def test_shipped_quote_form_accepts_a_quote():
    path = PROJECT_ROOT / "processes" / "approval" / "prepare_quote.json"
    definition = load_form_file(path.read_bytes(), path.name)
    cleaned = load_submission(
        definition,
        {
            "customer_name": "华为",
            "product": "Router X",
            "list_price": "1000",
            "quoted_price": "899.995",
            "notes": "",
        },
    )
    assert cleaned["quoted_price"] == 900.0
    assert errors_of(definition, {"list_price": "0", "quoted_price": "-1"}) == {
        "customer_name": [REQUIRED],
        "product": [REQUIRED],
        "list_price": ["Enter a value of at least 0.01."],
        "quoted_price": ["Enter a value of at least 0."],
    }


# --- patterns, references, sensitive ------------------------------------------------------------


def _one_field(**spec):
    from forms.definitions import validate_form_definition

    field = {"name": "code", "type": "text", "label": "Code", **spec}
    return validate_form_definition({"key": "f", "title": "F", "fields": [field]})


def test_a_pattern_must_match_the_whole_value():
    from forms.submission import load_submission

    form = _one_field(pattern=r"[A-Z]{2}-\d{4}")

    assert load_submission(form, {"code": "SZ-2026"}) == {"code": "SZ-2026"}
    with pytest.raises(Invalid) as info:
        load_submission(form, {"code": "SZ-2026x"})
    assert info.value.details == {"code": ["Does not match the required format."]}
    assert load_submission(form, {"code": ""}) == {"code": ""}  # optional and blank


@pytest.mark.parametrize(
    ("spec", "path", "fragment"),
    [
        ({"pattern": "(unclosed"}, "fields.0.pattern", "Not a valid regular expression"),
        ({"pattern": r"(a+)+$"}, "fields.0.pattern", "Nested repetition"),
        ({"pattern": r"(\w*)*x"}, "fields.0.pattern", "Nested repetition"),
        ({"type": "integer", "pattern": "x"}, "fields.0.pattern", "Only text fields"),
        ({"type": "reference"}, "fields.0.collection", "names the collection"),
        ({"collection": "customers"}, "fields.0.collection", "Only reference fields"),
    ],
)
def test_pattern_and_reference_options_are_checked(spec, path, fragment):
    with pytest.raises(Invalid) as info:
        _one_field(**spec)
    assert any(fragment in message for message in info.value.details[path])


def test_a_reference_is_a_record_id_and_sensitive_is_accepted():
    from forms.submission import load_submission

    form = _one_field(type="reference", collection="customers", sensitive=True)

    assert form["fields"][0]["sensitive"] is True
    assert load_submission(form, {"code": "12"}) == {"code": 12}
    for bad in (0, "abc", -3):
        with pytest.raises(Invalid):
            load_submission(form, {"code": bad})
