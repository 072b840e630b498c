"""A malformed import file says what is wrong and changes nothing: no record, no version, no
audit entry, no webhook event — whatever is wrong with it."""

from __future__ import annotations

import csv
import io
import os

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from crm_domain.audit import AuditEntry
from crm_domain.customers import Customer
from crm_domain.outbox import OutboxMessage

HEADERS = ["客户名称", "税号", "外部编号", "等级", "合作开始日期"]
EXISTING = [
    ["苏州锦华纺织有限公司", "91320500MA1XYZ1234", "ERP-001", "A", "2019-03-15"],
    ["无锡新丝路服饰有限公司", "91320200MA2ABC5678", "ERP-002", "B", "2021-06-01"],
]


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(api, content: bytes, filename: str = "customers.csv", collection="customers"):
    return api.client.post(
        f"/api/v1/import/{collection}",
        data={"file": (io.BytesIO(content), filename)},
        headers=api._headers(None),
        content_type="multipart/form-data",
    )


def state(session) -> tuple:
    session.expire_all()
    customers = session.execute(
        select(Customer.id, Customer.version, Customer.grade).order_by(Customer.id)
    ).all()
    audit = session.scalar(select(func.count(AuditEntry.id)))
    events = session.scalar(select(func.count(OutboxMessage.id)))
    return [tuple(row) for row in customers], audit, events


UTF8 = csv_bytes([HEADERS, ["常州华美家纺", "91320400MA3DEF9012", "ERP-003", "C", ""]], "utf-8")
# (case, file, filename, status, words the message or a detail must contain)
MALFORMED = [
    # A UTF-8 file damaged by one byte is not taken for GBK (which would import mojibake).
    ("utf8_with_a_broken_byte", UTF8[:40] + b"\xff" + UTF8[40:], "a.csv", 422, "encoding"),
    (
        "latin1",
        "name,region\r\nCafé Müller,Zürich\r\n".encode("cp1252"),
        "a.csv",
        422,
        "encoding",
    ),
    (
        "utf16_without_bom",
        csv_bytes([HEADERS, EXISTING[0]], "utf-16-le"),
        "a.csv",
        422,
        "binary",
    ),
    (
        "missing_required_column",
        csv_bytes([["简称", "地区"], ["锦华", "华东"]]),
        "a.csv",
        422,
        "name",
    ),
    (
        "bad_date_on_an_update",
        csv_bytes([HEADERS, [*EXISTING[0][:3], "C", "2019-02-30"]]),
        "a.csv",
        422,
        "2024-03-15",
    ),
    (
        "bad_date_in_xlsx",
        xlsx_bytes([HEADERS, [*EXISTING[1][:3], "C", "下周三"]]),
        "a.xlsx",
        422,
        "2024-03-15",
    ),
    (
        "duplicate_keys",
        csv_bytes([HEADERS, [*EXISTING[0][:3], "C", ""], ["另一家", "", "ERP-001", "D", ""]]),
        "a.csv",
        422,
        "Row 2",
    ),
    (
        "a_good_update_and_a_bad_row",
        csv_bytes([HEADERS, [*EXISTING[0][:3], "C", ""], ["坏", "not-a-tax-id", "", "Z", ""]]),
        "a.csv",
        422,
        "1 of 2 rows",
    ),
    ("random_junk", os.urandom(1_000_000), "a.csv", 422, "not a CSV"),
    ("junk_named_xlsx", os.urandom(20_000), "a.xlsx", 422, "workbook"),
    ("empty", b"", "a.csv", 422, "empty"),
    ("header_only", csv_bytes([HEADERS]), "a.csv", 422, "no data rows"),
]


@pytest.fixture
def manager_with_customers(company, session):
    manager = company.manager_a
    response = upload(manager, csv_bytes([HEADERS, *EXISTING]))
    assert response.status_code == 201, response.get_json()
    return manager


@pytest.mark.parametrize(
    ("content", "filename", "status", "words"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_a_malformed_file_is_reported_and_changes_nothing(
    manager_with_customers, session, content, filename, status, words
):
    before = state(session)

    for dry_run in (False, True):
        api = manager_with_customers
        query = "?dry_run=1" if dry_run else ""
        response = api.client.post(
            f"/api/v1/import/customers{query}",
            data={"file": (io.BytesIO(content), filename)},
            headers=api._headers(None),
            content_type="multipart/form-data",
        )

        assert response.status_code == status, response.get_json()
        error = response.get_json()["error"]
        text = error["message"] + " ".join(str(d.get("message")) for d in error["details"])
        assert words.lower() in text.lower(), text
        assert all({"row", "column", "field", "message"} <= set(d) for d in error["details"])
        assert state(session) == before


def test_fifty_megabytes_of_junk_is_refused_without_reading_it_as_rows(
    manager_with_customers, session
):
    before = state(session)
    junk = b"\x00" + os.urandom(50 * 1024 * 1024 - 1)  # exactly at the cap: read, then judged

    response = upload(manager_with_customers, junk)

    assert response.status_code == 422
    assert "not a CSV or XLSX" in response.get_json()["error"]["message"]
    over = upload(manager_with_customers, junk + b"x")
    assert over.status_code == 413 and "50 MB" in over.get_json()["error"]["message"]
    assert state(session) == before


def test_a_malformed_orders_file_changes_nothing(company, session):
    manager = company.manager_a
    buyer = manager.post("/api/v1/customers", json={"name": "苏州锦华"}).get_json()
    before = state(session)
    rows = [
        ["order_no", "customer_id", "ordered_on", "lines"],
        ["SO-1", buyer["id"], "2026/13/01", '[{"description": "府绸", "quantity": 1}]'],
        ["SO-2", buyer["id"], "2026-11-01", "[{not json"],
        ["SO-1", buyer["id"], "2026-11-02", '[{"description": "府绸", "quantity": 1}]'],
    ]

    response = upload(manager, csv_bytes(rows), "orders.csv", "orders")

    assert response.status_code == 422
    fields = {(d["row"], d["field"]) for d in response.get_json()["error"]["details"]}
    assert {(2, "ordered_on"), (3, "lines"), (4, "order_no")} <= fields
    assert manager.get("/api/v1/orders").get_json()["total"] == 0
    assert state(session) == before
