"""Reading cells and headers in the exchange format, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.errors import Invalid, PayloadTooLarge
from crm_domain.exchange.columns import CellError, ExchangeColumn, guard_formula, header_key
from crm_domain.exchange.importing import same_value
from crm_domain.exchange.reading import decode_text, read_table


def column(kind: str, **options) -> ExchangeColumn:
    return ExchangeColumn(name="x", kind=kind, label={"en": "X"}, **options)


@pytest.mark.parametrize(
    "raw",
    ["2024-03-15", "2024/3/15", "2024.03.15", "2024年3月15日", "20240315", "2024-03-15 00:00:00",
     date(2024, 3, 15), datetime(2024, 3, 15, 8, 0), 45366],
)  # fmt: skip
def test_dates_in_the_forms_chinese_spreadsheets_use(raw):
    assert column("date").read(raw) == "2024-03-15"


@pytest.mark.parametrize("raw", ["2024-02-30", "15/03/2024x", "明天", True])
def test_bad_dates_say_how_to_write_one(raw):
    with pytest.raises(CellError, match="2024-03-15"):
        column("date").read(raw)


def test_numbers_booleans_lists_and_text():
    assert column("decimal").read("￥1,234.50") == Decimal("1234.50")
    assert column("decimal").read("¥ 500,000 元") == Decimal("500000")
    assert column("decimal").read(12.5) == Decimal("12.5")
    assert column("integer").read("12.0") == 12
    for bad in ("1.5", "abc", "NaN"):
        with pytest.raises(CellError):
            column("integer").read(bad)
    with pytest.raises(CellError):
        column("decimal").read("Infinity")
    assert [column("boolean").read(v) for v in ("是", "否", "TRUE", "0", "√", True)] == [
        True, False, True, False, True, True,
    ]  # fmt: skip
    with pytest.raises(CellError):
        column("boolean").read("maybe")
    assert column("list").read("面料，老客户、重点; VIP") == ["面料", "老客户", "重点", "VIP"]
    assert column("text").read(13800138000.0) == "13800138000"  # Excel's numeric phone
    assert column("text").read("   ") is None
    assert column("text").read("'=1+1") == "=1+1"  # our export's formula guard, removed
    assert column("choice", choices={"合作中": "active", "active": "active"}).read("合作中") == (
        "active"
    )
    instant = column("datetime").read("2024-03-15T09:30:00+08:00")
    assert datetime.fromisoformat(instant) == datetime(2024, 3, 15, 1, 30, tzinfo=UTC)
    assert column("datetime").read("2024-03-15 09:30").endswith("+00:00")


def test_headers_compare_loosely_and_formulas_are_guarded():
    assert header_key("Tax ID") == header_key("tax_id") == header_key(" TAX-ID* ")
    assert header_key("客户名称（必填）") != header_key("客户名称")
    assert header_key("ＮＡＭＥ") == "name"  # full-width letters
    assert guard_formula("=SUM(A1)") == "'=SUM(A1)"
    assert guard_formula("+86 512 6588") == "+86 512 6588"
    assert guard_formula("-5") == "-5"
    assert guard_formula("@cmd") == "'@cmd"


def test_same_value_is_not_fooled_by_types():
    assert same_value(Decimal("500000.00"), Decimal("500000"))
    assert same_value(date(2024, 3, 15), "2024-03-15")
    assert not same_value(True, 1)
    assert same_value(["a", "b"], ["a", "b"]) and not same_value(["a"], ["a", "b"])
    assert not same_value(None, "x") and same_value(None, None)


def test_decoding_and_file_sniffing():
    text = "客户名称\r\n锦华\r\n"
    assert decode_text(text.encode("utf-8-sig")) == (text, "utf-8-sig")
    assert decode_text(text.encode("gbk")) == (text, "gb18030")
    assert decode_text(text.encode("utf-16")) == (text, "utf-16")
    with pytest.raises(Invalid, match="encoding"):
        decode_text("Café,Zürich\r\n".encode("cp1252"))
    with pytest.raises(Invalid, match="binary"):
        decode_text(b"name\x00\x01\x02")
    table = read_table("\r\n客户名称;地区\r\n锦华;华东\r\n\r\n无锡;\r\n".encode(), "a.csv")
    assert table.headers == ["客户名称", "地区"]
    assert table.rows == [(3, ["锦华", "华东"]), (5, ["无锡", ""])]
    with pytest.raises(PayloadTooLarge):
        read_table(b"name\r\nx\r\n", "a.csv", max_bytes=5)
    with pytest.raises(PayloadTooLarge):
        read_table(b"name\r\na\r\nb\r\nc\r\n", "a.csv", max_rows=2)
