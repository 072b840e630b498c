"""Import and export of CRM records: CSV/XLSX, Chinese headers, all-or-nothing, scope, jobs, CLI."""

from __future__ import annotations

import csv
import io
import os
import time

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from core.db import make_engine, make_session_factory, unit_of_work
from core.security import issue_token
from crm_domain.audit import AuditEntry
from crm_domain.customers import Customer
from crm_domain.org import create_org_unit
from crm_domain.roles import Role
from crm_domain.users import create_user
from tests.conftest import TEST_SECRET, ApiClient
from web.cli import main

HEADERS_ZH = ["客户名称", "简称", "地区", "电话", "税号", "开户行", "银行账号", "行业", "等级",
              "信用额度", "客户阶段", "外部编号", "合作开始日期"]  # fmt: skip
ROWS_ZH = [
    ["苏州锦华纺织有限公司", "锦华纺织", "华东", "0512-65881234", "91320500MA1XYZ1234",
     "中国工商银行苏州分行", "1102020109000123456", "textile", "A", "￥500,000.00", "合作中",
     "ERP-001", "2019/3/15"],
    ["无锡新丝路服饰有限公司", "新丝路", "华东", "0510-82223333", "91320200MA2ABC5678",
     "中国银行无锡分行", "6217000010001234567", "apparel", "B", "200000", "潜在客户",
     "ERP-002", "2021年6月1日"],
]  # fmt: skip


@pytest.fixture
def org(session, make_user, api_as):
    """Group → branch A (→ office A1) and branch B, people in each, and an exporter role."""
    group = create_org_unit(session, "锦华集团", "group")
    branch_a = create_org_unit(session, "华东分公司", "branch", group.id)
    office_a1 = create_org_unit(session, "苏州办事处", "office", branch_a.id)
    branch_b = create_org_unit(session, "华南分公司", "branch", group.id)
    # Export and import without the view_sensitive grant.
    session.add(
        Role(
            key="clerk",
            name={"zh": "文员", "en": "Clerk"},
            permissions={
                "customers": {"actions": ["read", "create", "update"], "scope": "subtree"}
            },
            grants=["export", "import"],
        )
    )
    session.commit()

    def person(*roles, unit):
        return api_as(user=make_user(*roles, org_unit_id=unit.id))

    class Org:
        units = {"group": group, "a": branch_a, "a1": office_a1, "b": branch_b}
        sales_a1 = person("salesperson", unit=office_a1)
        sales_b = person("salesperson", unit=branch_b)
        manager_a = person("sales_manager", unit=branch_a)
        manager_b = person("sales_manager", unit=branch_b)
        executive = person("executive", unit=group)
        clerk_a = person("clerk", unit=branch_a)
        admin = person("admin", unit=group)

    return Org


def csv_bytes(headers, rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(headers, rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(api, collection, content, filename="customers.csv", query="", **form):
    data = {"file": (io.BytesIO(content), filename), **{k: str(v) for k, v in form.items()}}
    return api.client.post(
        f"/api/v1/import/{collection}{query}",
        data=data,
        headers=api._headers(None),
        content_type="multipart/form-data",
    )


def customers(api, query=""):
    body = api.get(f"/api/v1/customers{query}").get_json()
    return {item["name"]: item for item in body["items"]}


def export(api, collection="customers", query=""):
    response = api.get(f"/api/v1/export/{collection}{query}")
    return response, response.get_data()


def read_csv(content: bytes, encoding="utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding))))


def test_csv_with_chinese_headers_and_bom_creates_customers(org, session):
    response = upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))

    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert (report["created"], report["updated"], report["total_rows"]) == (2, 0, 2)
    assert report["encoding"] == "utf-8-sig" and report["applied"] is True
    assert (
        report["columns"]["税号"] == "tax_id" and report["columns"]["客户阶段"] == "lifecycle_stage"
    )
    found = customers(org.manager_a)
    jinhua = found["苏州锦华纺织有限公司"]
    assert jinhua["tax_id"] == "91320500MA1XYZ1234"
    assert jinhua["credit_limit"] == 500000.0
    assert jinhua["lifecycle_stage"] == "active"
    assert jinhua["cooperation_since"] == "2019-03-15"
    assert found["无锡新丝路服饰有限公司"]["cooperation_since"] == "2021-06-01"
    assert found["无锡新丝路服饰有限公司"]["lifecycle_stage"] == "prospect"
    assert jinhua["owner_id"] == org.manager_a.user.id
    assert jinhua["org_unit_id"] == org.units["a"].id
    # Same service as the API: searchable by pinyin, and in the audit trail as created.
    assert set(customers(org.manager_a, "?q=szjh")) == {"苏州锦华纺织有限公司"}
    history = org.manager_a.get(f"/api/v1/customers/{jinhua['id']}/history").get_json()
    assert [entry["action"] for entry in history["items"]] == ["create"]
    assert history["items"][0]["user_id"] == org.manager_a.user.id


def test_gbk_csv_as_chinese_excel_saves_it(org):
    content = csv_bytes(HEADERS_ZH, ROWS_ZH, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")

    response = upload(org.manager_a, "customers", content)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["encoding"] == "gb18030"
    assert "苏州锦华纺织有限公司" in customers(org.manager_a)


def test_english_headers_any_case_and_spacing(org):
    headers = ["Name", "TAX ID", " short_name ", "Lifecycle Stage", "tags"]
    rows = [["常州华美家纺", "91320400MA3DEF9012", "华美", "dormant", "家纺，老客户、重点"]]

    response = upload(org.manager_a, "customers", csv_bytes(headers, rows, "utf-8"))

    assert response.status_code == 201, response.get_json()
    created = customers(org.manager_a)["常州华美家纺"]
    assert created["tags"] == ["家纺", "老客户", "重点"]
    assert created["short_name"] == "华美" and created["lifecycle_stage"] == "dormant"


def test_xlsx_round_trip_updates_instead_of_duplicating(org, session):
    upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))
    response, content = export(org.manager_a, query="?format=xlsx&headers=zh")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]

    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["系统编号", "客户名称", "简称"]
    grade = header.index("等级") + 1
    names = {sheet.cell(row=r, column=2).value: r for r in range(2, sheet.max_row + 1)}
    assert set(names) == {"苏州锦华纺织有限公司", "无锡新丝路服饰有限公司"}
    sheet.cell(row=names["无锡新丝路服饰有限公司"], column=grade).value = "C"
    edited = io.BytesIO()
    workbook.save(edited)

    again = upload(org.manager_a, "customers", edited.getvalue(), filename="edited.xlsx")

    assert again.status_code == 201, again.get_json()
    report = again.get_json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert "更新时间" in report["ignored_columns"]
    found = customers(org.manager_a)
    assert len(found) == 2
    assert found["无锡新丝路服饰有限公司"]["grade"] == "C"
    assert found["无锡新丝路服饰有限公司"]["version"] == 2
    assert found["苏州锦华纺织有限公司"]["version"] == 1


def test_upsert_by_tax_id_and_external_key(org):
    upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))

    by_keys = csv_bytes(
        ["税号", "信用额度", "外部编号", "等级"],
        [["91320500MA1XYZ1234", "800000", "", ""], ["", "", "ERP-002", "D"]],
    )
    response = upload(org.manager_a, "customers", by_keys)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["updated"] == 2
    found = customers(org.manager_a)
    assert found["苏州锦华纺织有限公司"]["credit_limit"] == 800000.0
    assert found["苏州锦华纺织有限公司"]["grade"] == "A"  # an empty cell leaves it alone
    assert found["无锡新丝路服饰有限公司"]["grade"] == "D"


def test_dry_run_reports_and_writes_nothing(org, session):
    before = session.scalar(select(func.count()).select_from(AuditEntry))

    response = upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH), dry_run="true")

    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["dry_run"] is True and report["applied"] is False
    assert report["created"] == 2 and report["errors"] == []
    assert customers(org.manager_a) == {}
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_one_bad_row_means_nothing_is_imported(org):
    rows = [
        *ROWS_ZH,
        ["常州华美家纺", "", "", "", "not-a-tax-id", "", "", "", "Z", "abc", "", "ERP-003",
         "2020-02-30"],
    ]  # fmt: skip

    response = upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, rows))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "1 of 3 rows" in error["message"]
    assert error["report"]["total_rows"] == 3
    problems = {(d["row"], d["column"], d["field"]) for d in error["details"]}
    assert {
        (4, "税号", "tax_id"),
        (4, "等级", "grade"),
        (4, "信用额度", "credit_limit"),
        (4, "合作开始日期", "cooperation_since"),
    } <= problems
    messages = {d["field"]: d["message"] for d in error["details"]}
    assert "2024-03-15" in messages["cooperation_since"]
    assert all(d["row"] == 4 for d in error["details"])
    assert customers(org.manager_a) == {}


def test_duplicate_keys_in_the_file_are_errors(org):
    rows = [ROWS_ZH[0], ROWS_ZH[1], [*ROWS_ZH[0][:11], "ERP-009", ""]]

    response = upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, rows))

    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details[0]["row"] == 4 and details[0]["field"] == "tax_id"
    assert "Row 2" in details[0]["message"]
    assert customers(org.manager_a) == {}


def test_header_problems_are_reported_before_any_row(org):
    missing = upload(org.manager_a, "customers", csv_bytes(["简称", "地区"], [["锦华", "华东"]]))
    assert missing.status_code == 422
    detail = missing.get_json()["error"]["details"][0]
    assert (detail["row"], detail["column"], detail["field"]) == (1, "客户名称", "name")
    assert "missing" in detail["message"]

    unknown = upload(org.manager_a, "customers", csv_bytes(["客户名称", "序号"], [["甲", "1"]]))
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["details"][0]["column"] == "序号"
    ignored = upload(
        org.manager_a,
        "customers",
        csv_bytes(["客户名称", "序号"], [["甲", "1"]]),
        ignore_unknown="1",
    )
    assert ignored.status_code == 201 and ignored.get_json()["ignored_columns"] == ["序号"]

    headless = upload(
        org.manager_a, "customers", csv_bytes(["客户名称", "", "地区"], [["甲", "备注", "华东"]])
    )
    assert headless.status_code == 422
    assert "without a header" in headless.get_json()["error"]["details"][0]["message"]

    twice = upload(org.manager_a, "customers", csv_bytes(["客户名称", "name"], [["甲", "乙"]]))
    assert twice.status_code == 422
    assert "both" in twice.get_json()["error"]["details"][0]["message"]


def test_wrong_encoding_junk_and_broken_files_are_clear_422s(org):
    latin = "name,region\r\nCafé Müller,Zürich\r\n".encode("cp1252")
    wrong = upload(org.manager_a, "customers", latin)
    assert wrong.status_code == 422
    assert "encoding" in wrong.get_json()["error"]["message"]

    junk = upload(org.manager_a, "customers", os.urandom(200_000), filename="junk.csv")
    assert junk.status_code == 422
    fake_xlsx = upload(org.manager_a, "customers", os.urandom(5000), filename="junk.xlsx")
    assert fake_xlsx.status_code == 422
    zip_junk = upload(
        org.manager_a, "customers", b"PK\x03\x04" + os.urandom(5000), filename="x.xlsx"
    )
    assert zip_junk.status_code == 422
    old_excel = upload(
        org.manager_a, "customers", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "a.xls"
    )
    assert old_excel.status_code == 422 and ".xls" in old_excel.get_json()["error"]["message"]
    empty = upload(org.manager_a, "customers", b"")
    assert empty.status_code == 422
    header_only = upload(org.manager_a, "customers", csv_bytes(["客户名称"], []))
    assert header_only.status_code == 422
    no_file = org.manager_a.client.post(
        "/api/v1/import/customers",
        data={"dry_run": "1"},
        headers=org.manager_a._headers(None),
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 422
    nowhere = upload(org.manager_a, "planets", csv_bytes(["name"], [["x"]]))
    assert nowhere.status_code == 404


def test_oversize_upload_is_413(org):
    big = b"name\r\n" + b"x" * (50 * 1024 * 1024 + 10)

    response = upload(org.manager_a, "customers", big)

    assert response.status_code == 413
    assert "50 MB" in response.get_json()["error"]["message"]
    # Above the app-wide request cap (20 MB) but within the import's own: read, then judged.
    junk = b"name\r\n" + b"x" * (30 * 1024 * 1024)
    readable = upload(org.manager_a, "customers", junk)
    assert readable.status_code == 422
    assert "malformed" in readable.get_json()["error"]["message"]


def test_too_many_rows_is_413(org, monkeypatch):
    from crm_domain.exchange import reading

    monkeypatch.setattr(reading, "IMPORT_MAX_ROWS", 3)
    rows = [[f"客户{i}"] for i in range(5)]

    response = upload(org.manager_a, "customers", csv_bytes(["客户名称"], rows))

    assert response.status_code == 413
    assert "3 data rows" in response.get_json()["error"]["message"]


def test_export_applies_the_data_scope_and_filters(org):
    org.sales_a1.post("/api/v1/customers", json={"name": "苏州甲", "grade": "A"})
    org.sales_a1.post("/api/v1/customers", json={"name": "苏州乙", "grade": "B"})
    org.sales_b.post("/api/v1/customers", json={"name": "广州丙", "grade": "A"})

    def exported_names(api, query=""):
        response, content = export(api, query=query)
        assert response.status_code == 200, response.get_json()
        rows = read_csv(content)
        position = rows[0].index("name")
        return {row[position] for row in rows[1:]}

    assert exported_names(org.manager_a) == {"苏州甲", "苏州乙"}
    assert exported_names(org.manager_b) == {"广州丙"}
    assert exported_names(org.executive) == {"苏州甲", "苏州乙", "广州丙"}
    assert exported_names(org.executive, "?grade=A") == {"苏州甲", "广州丙"}
    assert exported_names(org.executive, "?q=szy") == {"苏州乙"}
    assert org.executive.get("/api/v1/export/customers?colour=red").status_code == 422
    assert org.executive.get("/api/v1/export/customers?format=pdf").status_code == 422


def test_export_masks_sensitive_fields_without_the_grant(org):
    upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))

    response, content = export(org.clerk_a, query="?headers=zh")

    assert response.status_code == 200
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = read_csv(content)
    header = rows[0]
    record = dict(zip(header, rows[1], strict=True))
    assert record["税号"].endswith("1234") and "MA1XYZ" not in record["税号"]
    assert record["银行账号"] == "***************3456"
    full = read_csv(export(org.manager_a, query="?headers=zh")[1])
    assert "91320500MA1XYZ1234" in {dict(zip(full[0], r, strict=True))["税号"] for r in full[1:]}

    # The clerk may import the masked file back: the masked values are left alone.
    back = upload(org.clerk_a, "customers", content)
    assert back.status_code == 201, back.get_json()
    assert back.get_json()["unchanged"] == 2
    jinhua = customers(org.manager_a)["苏州锦华纺织有限公司"]
    assert jinhua["bank_account"] == "1102020109000123456"
    assert jinhua["version"] == 1


def test_gb18030_export_and_formula_guard(org):
    org.manager_a.post("/api/v1/customers", json={"name": '=HYPERLINK("x")', "phone": "+86 512"})

    response, content = export(org.manager_a, query="?encoding=gb18030")

    assert response.status_code == 200
    rows = read_csv(content, "gb18030")
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["name"] == '\'=HYPERLINK("x")'
    assert record["phone"] == "+86 512"
    again = upload(org.manager_a, "customers", content)
    assert again.status_code == 201 and again.get_json()["unchanged"] == 1


def test_grants_are_required(org):
    content = csv_bytes(HEADERS_ZH, ROWS_ZH)
    denied = upload(org.sales_a1, "customers", content)
    assert denied.status_code == 403
    assert "import" in denied.get_json()["error"]["message"]
    assert upload(org.sales_a1, "customers", content, dry_run=1).status_code == 403
    assert upload(org.executive, "customers", content).status_code == 403  # export only
    assert org.sales_a1.get("/api/v1/export/customers").status_code == 403
    assert org.sales_a1.get("/api/v1/export/customers?format=xlsx").status_code == 403
    # The clerk has the grants but no rights on products.
    products = csv_bytes(["货号", "产品名称", "品牌", "系列"], [["T-1", "纱", "锦", "春"]])
    assert upload(org.clerk_a, "products", products).status_code == 403


def test_an_unknown_id_is_an_error_not_a_new_record(org):
    content = csv_bytes(["id", "客户名称"], [["999999", "甲"], ["abc", "乙"]])

    response = upload(org.manager_a, "customers", content)

    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert [(d["row"], d["field"]) for d in details] == [(2, "id"), (3, "id")]
    assert "no customers record 999999" in details[0]["message"]
    assert details[1]["message"] == "Enter a whole number."
    assert customers(org.manager_a) == {}


def test_rows_outside_your_scope_are_not_updated(org):
    upload(org.manager_b, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH[:1]))

    response = upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))

    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert len(details) == 1 and details[0]["row"] == 2
    assert "not one you may change" in details[0]["message"]
    assert "(record" not in details[0]["message"]  # not even its id is given away
    assert customers(org.manager_a) == {}


def test_custom_field_columns_by_label_and_in_the_export(org):
    created = org.admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "customers",
            "name": "fabric_grade",
            "type": "choice",
            "required": True,
            "label": {"zh": "面料等级", "en": "Fabric grade"},
            "choices": [
                {"value": "premium", "label": {"zh": "高档", "en": "Premium"}},
                {"value": "standard", "label": {"zh": "普通", "en": "Standard"}},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()

    missing = upload(org.manager_a, "customers", csv_bytes(["客户名称"], [["甲"]]))
    assert missing.status_code == 422
    assert missing.get_json()["error"]["details"][0]["field"] == "custom.fabric_grade"

    content = csv_bytes(["客户名称", "面料等级"], [["甲", "高档"], ["乙", "standard"]])
    response = upload(org.manager_a, "customers", content)
    assert response.status_code == 201, response.get_json()
    assert customers(org.manager_a)["甲"]["custom"] == {"fabric_grade": "premium"}
    bad = upload(
        org.manager_a,
        "customers",
        csv_bytes(["客户名称", "custom.fabric_grade"], [["丙", "luxury"]]),
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"][0]["column"] == "custom.fabric_grade"

    rows = read_csv(export(org.manager_a)[1])
    assert rows[0][-1] == "custom.fabric_grade"
    assert read_csv(export(org.manager_a, query="?headers=zh")[1])[0][-1] == "面料等级"
    format_doc = org.manager_a.get("/api/v1/import/customers/format").get_json()
    column = next(c for c in format_doc["columns"] if c["name"] == "custom.fabric_grade")
    assert "面料等级" in column["headers"] and column["required"] is True
    assert format_doc["keys"] == ["id", "external_key", "tax_id"]


def test_contacts_name_their_customer_and_products_upsert_by_sku(org):
    upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))
    contacts = csv_bytes(
        ["客户外部编号", "客户名称", "姓名", "手机", "角色", "主要联系人"],
        [
            ["ERP-001", "", "王经理", "13800138000", "采购", "是"],
            ["", "无锡新丝路服饰有限公司", "李会计", "13900139000", "finance", "否"],
        ],
    )
    response = upload(org.manager_a, "contacts", contacts)
    assert response.status_code == 201, response.get_json()
    listed = org.manager_a.get("/api/v1/contacts").get_json()["items"]
    wang = next(c for c in listed if c["name"] == "王经理")
    assert (wang["role"], wang["is_primary"], wang["mobile"]) == ("purchaser", True, "13800138000")
    nowhere = csv_bytes(["客户外部编号", "姓名"], [["ERP-404", "赵"]])
    refused = upload(org.manager_a, "contacts", nowhere)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"][0]["column"] == "客户外部编号"

    products = xlsx_bytes(
        ["货号", "产品名称", "品牌", "系列", "单位", "单价", "启用"],
        [
            ["T-200", "精梳棉纱", "锦华", "春夏", "米", 12.5, "是"],
            ["T-300", "涤纶", "锦华", "秋冬", "千克", "8", "否"],
        ],
    )
    made = upload(org.manager_a, "products", products, filename="products.xlsx")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["created"] == 2
    changed = xlsx_bytes(["SKU", "Price"], [["T-200", 13]])
    again = upload(org.manager_a, "products", changed, filename="p.xlsx")
    assert again.status_code == 201 and again.get_json()["updated"] == 1
    items = {p["sku"]: p for p in org.manager_a.get("/api/v1/products").get_json()["items"]}
    assert (items["T-200"]["price"], items["T-200"]["unit"]) == (13.0, "metre")
    assert (items["T-300"]["unit"], items["T-300"]["active"]) == ("kg", False)


def _committed_app(committed_factory, database_url, tmp_path):
    from core.config import Settings
    from web.app import create_app

    return create_app(
        Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path),
        session_factory=committed_factory,
    )


def _wait_for(api, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/api/v1/import-jobs/{job_id}").get_json()
        if body["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_async_import_job_runs_to_completion(committed_factory, database_url, tmp_path):
    with unit_of_work(committed_factory) as session:
        admin = create_user(session, "importer", "password-123", ["sales_manager"])
        other = create_user(session, "nosy", "password-123", ["sales_manager"])
    client = _committed_app(committed_factory, database_url, tmp_path).test_client()
    api = ApiClient(client, issue_token(TEST_SECRET, admin.id, 3600)[0])
    nosy = ApiClient(client, issue_token(TEST_SECRET, other.id, 3600)[0])
    rows = [[f"客户{i:04d}", f"K-{i:04d}", "华东"] for i in range(600)]

    started = upload(
        api, "customers", csv_bytes(["客户名称", "外部编号", "地区"], rows), query="?async=1"
    )

    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    assert started.headers["Location"] == f"/api/v1/import-jobs/{job_id}"
    done = _wait_for(api, job_id)
    assert done["status"] == "succeeded", done
    assert (done["total_rows"], done["processed_rows"], done["created"]) == (600, 600, 600)
    assert done["percent"] == 100 and done["finished_at"]
    assert api.get("/api/v1/customers?per_page=1").get_json()["total"] == 600
    assert nosy.get(f"/api/v1/import-jobs/{job_id}").status_code == 404

    # A failing job stores its row errors and changes nothing.
    bad = [*rows[:3], ["", "K-9999", "华东"]]
    failed = upload(
        api, "customers", csv_bytes(["客户名称", "外部编号", "地区"], bad), query="?async=1"
    )
    result = _wait_for(api, failed.get_json()["job_id"])
    assert result["status"] == "failed"
    assert result["errors"][0]["row"] == 5 and result["errors"][0]["field"] == "name"
    assert api.get("/api/v1/customers?per_page=1").get_json()["total"] == 600
    # Header errors are refused at once, without a job.
    refused = upload(api, "customers", csv_bytes(["序号"], [["1"]]), query="?async=1")
    assert refused.status_code == 422


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("WEFT_DATABASE_URL", url)
    monkeypatch.setenv("WEFT_VAR_DIR", str(tmp_path / "var"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.factory = lambda: make_session_factory(make_engine(url))
    assert run("db", "upgrade", "--no-shipped").exit_code == 0
    assert (
        run(
            "user",
            "create",
            "--username",
            "li.qiang",
            "--password",
            "long-enough-1",
            "--role",
            "sales_manager",
        ).exit_code
        == 0
    )
    return run


def test_cli_import_and_export(cli, tmp_path):
    source = tmp_path / "客户.csv"
    source.write_bytes(csv_bytes(HEADERS_ZH, ROWS_ZH, encoding="gbk"))

    dry = cli("import", "customers", str(source), "--dry-run", "--as", "li.qiang")
    assert dry.exit_code == 0, dry.output
    assert "would create 2" in dry.output and "nothing written" in dry.output
    done = cli("import", "customers", str(source), "--as", "li.qiang")
    assert done.exit_code == 0, done.output
    assert "created 2" in done.output
    with cli.factory()() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 2

    target = tmp_path / "out.xlsx"
    exported = cli("export", "customers", str(target), "--headers", "zh", "--as", "li.qiang")
    assert exported.exit_code == 0, exported.output
    sheet = load_workbook(target).active
    assert sheet.cell(row=1, column=2).value == "客户名称" and sheet.max_row == 3
    csv_target = tmp_path / "out.csv"
    assert cli("export", "customers", str(csv_target), "--as", "li.qiang").exit_code == 0
    assert len(read_csv(csv_target.read_bytes())) == 3

    again = cli("import", "customers", str(target), "--as", "li.qiang")
    assert again.exit_code == 0 and "unchanged 2" in again.output

    broken = tmp_path / "broken.csv"
    broken.write_bytes(csv_bytes(["客户名称", "等级"], [["甲", "A"], ["乙", "Z"]]))
    refused = cli("import", "customers", str(broken), "--as", "li.qiang")
    assert refused.exit_code == 2
    assert "row 3, 等级" in refused.output
    nobody = cli("import", "customers", str(source), "--as", "nobody")
    assert nobody.exit_code == 2 and "nobody" in nobody.output
    with cli.factory()() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 2


def test_job_status_shows_live_progress_and_spots_interrupted_jobs(session, make_user):
    from datetime import timedelta

    from crm_domain.access import actor_for
    from crm_domain.exchange import jobs

    actor = actor_for(session, make_user("sales_manager"))
    job = jobs.create_import_job(session, actor, "customers", "big.csv", total_rows=1000)
    job.status = "running"
    session.flush()

    jobs._live[job.id] = (250, 1000)
    try:
        running = jobs.job_to_dict(job)
    finally:
        jobs._live.pop(job.id)
    assert (running["status"], running["processed_rows"], running["percent"]) == (
        "running",
        250,
        25,
    )
    job.updated_at = job.updated_at - jobs.STALE_AFTER - timedelta(minutes=1)
    gone = jobs.job_to_dict(job)
    assert gone["status"] == "failed" and "interrupted" in gone["message"]


def test_orders_with_lines_round_trip_as_json(org):
    upload(org.manager_a, "customers", csv_bytes(HEADERS_ZH, ROWS_ZH))
    product = org.manager_a.post(
        "/api/v1/products",
        json={"sku": "T-200", "name": "精梳棉纱", "brand": "锦华", "series": "春夏", "price": 12.5},
    )
    assert product.status_code == 201, product.get_json()
    lines = f'[{{"product_id": {product.get_json()["id"]}, "quantity": 100}}]'
    content = csv_bytes(
        ["客户外部编号", "订单号", "下单日期", "明细"], [["ERP-001", "SO-1", "2026-03-01", lines]]
    )

    made = upload(org.manager_a, "orders", content)

    assert made.status_code == 201, made.get_json()
    order = org.manager_a.get("/api/v1/orders").get_json()["items"][0]
    assert order["order_no"] == "SO-1" and order["total"] == 1250.0
    response, exported = export(org.manager_a, "orders", "?format=xlsx&headers=zh")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(exported)).active
    header = [cell.value for cell in sheet[1]]
    assert "明细" in header and "总金额" in header
    again = upload(org.manager_a, "orders", exported, filename="orders.xlsx")
    assert again.status_code == 201, again.get_json()
    assert (again.get_json()["unchanged"], again.get_json()["updated"]) == (1, 0)
    assert "总金额" in again.get_json()["ignored_columns"]
    broken = csv_bytes(["客户外部编号", "订单号", "明细"], [["ERP-001", "SO-2", "[{oops"]])
    refused = upload(org.manager_a, "orders", broken)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"][0]["column"] == "明细"
