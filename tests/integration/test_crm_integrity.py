"""Unique keys and references through the API and import: always a 422 on the field, also when
another writer gets in between the check and the INSERT; concurrent edits, import included."""

from __future__ import annotations

import csv
import io
import threading

import pytest

from core.config import Settings
from core.db import unit_of_work
from core.security import issue_token
from crm_domain import record_service
from crm_domain.customers import Customer
from crm_domain.exchange import importing
from crm_domain.users import create_user
from tests.conftest import TEST_SECRET, ApiClient
from tests.support.http import created
from web.app import create_app

TAX_ID = "91320500MA1XYZ1234"


def field_errors(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.get_json())
    return response.get_json()["error"]["details"]


def upload(api, collection, content: bytes, **form):
    data = {"file": (io.BytesIO(content), f"{collection}.csv"), **form}
    return api.client.post(
        f"/api/v1/import/{collection}",
        data=data,
        headers=api._headers(None),
        content_type="multipart/form-data",
    )


def csv_bytes(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# --- unique keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "first", "second", "key", "free"),
    [
        (
            "customers",
            {"name": "甲", "tax_id": TAX_ID},
            {"name": "乙", "tax_id": TAX_ID},
            "tax_id",
            "91320200MA2ABC5678",
        ),
        (
            "customers",
            {"name": "甲", "external_key": "ERP-1"},
            {"name": "乙", "external_key": "ERP-1"},
            "external_key",
            "ERP-2",
        ),
        (
            "products",
            {"sku": "JH-001", "name": "府绸", "brand": "锦华", "series": "府绸"},
            {"sku": "JH-001", "name": "塔夫绸", "brand": "锦华", "series": "塔夫绸"},
            "sku",
            "JH-002",
        ),
    ],
)
def test_a_taken_unique_key_is_a_422_on_the_field(company, collection, first, second, key, free):
    admin = company.admin
    kept = created(admin.post(f"/api/v1/{collection}", json=first))

    assert field_errors(admin.post(f"/api/v1/{collection}", json=second)) == {
        key: ["Already used by another record."]
    }
    other = created(admin.post(f"/api/v1/{collection}", json={**second, key: free}))
    url = f"/api/v1/{collection}/{other['id']}"
    assert key in field_errors(admin.patch(url, json={"version": 1, key: first[key]}))
    # Saving a record with its own key unchanged is fine.
    same = admin.patch(f"/api/v1/{collection}/{kept['id']}", json={"version": 1, key: first[key]})
    assert same.status_code == 200


def test_the_key_is_unique_across_branches(company):
    """Uniqueness is global (it is the other systems' key), and says no more than "taken"."""
    created(company.sales_a1.post("/api/v1/customers", json={"name": "甲", "tax_id": TAX_ID}))

    refused = company.sales_b.post("/api/v1/customers", json={"name": "乙", "tax_id": TAX_ID})

    assert field_errors(refused) == {"tax_id": ["Already used by another record."]}


def test_blank_external_keys_do_not_collide(company):
    for name in ("甲", "乙"):
        body = created(
            company.admin.post("/api/v1/customers", json={"name": name, "external_key": ""})
        )
        assert body["external_key"] is None


def test_a_key_taken_between_the_check_and_the_insert_is_still_a_field_error(
    company, session_factory, monkeypatch
):
    """Another writer commits the same tax id after the service checked it: the database's
    unique constraint refuses the INSERT and the answer is the same 422, not a 409 or 500."""
    checked = record_service._apply_rules

    def check_then_lose_the_race(change, **options):
        checked(change, **options)
        if change.collection.name == "customers" and change.values.get("tax_id") == TAX_ID:
            with session_factory() as other:
                other.add(Customer(name="抢先", pinyin="", tax_id=TAX_ID, custom={}))
                other.commit()

    monkeypatch.setattr(record_service, "_apply_rules", check_then_lose_the_race)

    response = company.admin.post("/api/v1/customers", json={"name": "甲", "tax_id": TAX_ID})

    assert field_errors(response) == {"tax_id": ["Already used by another record."]}
    assert company.admin.get("/api/v1/customers?q=甲").get_json()["total"] == 0


def test_the_same_key_at_the_same_moment_one_wins(committed_factory, database_url, tmp_path):
    """Real threads and commits: five people create a customer with one tax id at once."""
    with unit_of_work(committed_factory) as session:
        people = [create_user(session, f"rival{i}", "password-123", ["admin"]) for i in range(5)]
        tokens = [issue_token(TEST_SECRET, person.id, 600)[0] for person in people]
    app = create_app(
        Settings(database_url=database_url, secret_key=TEST_SECRET, var_dir=tmp_path),
        session_factory=committed_factory,
    )
    barrier, answers = threading.Barrier(len(tokens)), []

    def create(token: str, number: int) -> None:
        api = ApiClient(app.test_client(), token)
        barrier.wait()
        response = api.post("/api/v1/customers", json={"name": f"客户{number}", "tax_id": TAX_ID})
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=create, args=(t, i)) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201, 422, 422, 422, 422]
    for status, body in answers:
        if status == 422:
            assert body["error"]["details"] == {"tax_id": ["Already used by another record."]}
    admin = ApiClient(app.test_client(), tokens[0])
    assert admin.get(f"/api/v1/customers?tax_id={TAX_ID}").get_json()["total"] == 1


def test_an_import_row_whose_key_was_taken_meanwhile_fails_and_nothing_is_saved(
    company, session_factory, monkeypatch
):
    matched = importing._match

    def match_then_lose_the_race(*args, **kwargs):
        matched(*args, **kwargs)  # the file's tax id matched nothing: the row will create
        with session_factory() as other:
            other.add(Customer(name="抢先", pinyin="", tax_id=TAX_ID, custom={}))
            other.commit()

    monkeypatch.setattr(importing, "_match", match_then_lose_the_race)
    content = csv_bytes([["客户名称", "税号"], ["甲", "91320200MA2ABC5678"], ["乙", TAX_ID]])

    response = upload(company.manager_a, "customers", content)

    assert response.status_code == 422
    errors = response.get_json()["error"]["details"]
    # The rows are written in batches: the constraint names the batch, not the row.
    assert [e["field"] for e in errors] == ["tax_id"]
    assert "rows 2 to 3" in errors[0]["message"] and "Already used" in errors[0]["message"]
    assert company.admin.get("/api/v1/customers?q=甲").get_json()["total"] == 0  # nor row 2


# --- custom reference fields ---------------------------------------------------------------


def _reference_field(admin, collection: str, name: str, target: str):
    return admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": collection,
            "name": name,
            "type": "reference",
            "reference_collection": target,
            "label": {"zh": "引用", "en": name},
        },
    )


def test_a_reference_field_points_to_a_real_collection(company):
    nowhere = _reference_field(company.admin, "customers", "parent_company", "planets")
    assert "collection" in field_errors(nowhere)
    unnamed = company.admin.post(
        "/api/v1/admin/fields",
        json={"collection": "customers", "name": "x", "type": "reference", "label": "x"},
    )
    assert "collection" in field_errors(unnamed)
    made = _reference_field(company.admin, "customers", "parent_company", "customers")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["spec"]["collection"] == "customers"


def test_a_custom_reference_must_name_a_record_you_can_see(company):
    assert (
        _reference_field(company.admin, "customers", "parent_company", "customers").status_code
        == 201
    )
    assert (
        _reference_field(company.admin, "customers", "account_manager", "users").status_code == 201
    )
    sales = company.sales_a1
    mine = created(sales.post("/api/v1/customers", json={"name": "苏州总公司"}))
    theirs = created(company.sales_b.post("/api/v1/customers", json={"name": "广州公司"}))

    for refused in (theirs["id"], 999_999, "abc"):
        body = {"name": "苏州分厂", "custom": {"parent_company": refused}}
        errors = field_errors(sales.post("/api/v1/customers", json=body))
        assert list(errors) == ["custom.parent_company"], refused
    assert "custom.account_manager" in field_errors(
        sales.post("/api/v1/customers", json={"name": "乙", "custom": {"account_manager": 999_999}})
    )
    child = created(
        sales.post(
            "/api/v1/customers",
            json={
                "name": "苏州分厂",
                "custom": {"parent_company": mine["id"], "account_manager": sales.user.id},
            },
        )
    )
    assert child["custom"] == {"parent_company": mine["id"], "account_manager": sales.user.id}
    url = f"/api/v1/customers/{child['id']}"
    moved = sales.patch(url, json={"version": 1, "custom": {"parent_company": theirs["id"]}})
    assert list(field_errors(moved)) == ["custom.parent_company"]
    assert sales.get(url).get_json()["custom"]["parent_company"] == mine["id"]
    # The branch manager of B may point at B's customer; the salesperson's other edits are
    # not blocked by a stored reference they cannot see.
    assert (
        company.admin.patch(
            url, json={"version": 1, "custom": {"parent_company": theirs["id"]}}
        ).status_code
        == 200
    )
    assert sales.patch(url, json={"version": 2, "grade": "B"}).status_code == 200


def test_an_imported_reference_is_checked_like_the_api(company):
    assert (
        _reference_field(company.admin, "customers", "parent_company", "customers").status_code
        == 201
    )
    theirs = created(company.sales_b.post("/api/v1/customers", json={"name": "广州公司"}))
    content = csv_bytes([["客户名称", "custom.parent_company"], ["苏州分厂", theirs["id"]]])

    response = upload(company.manager_a, "customers", content)

    assert response.status_code == 422
    (error,) = response.get_json()["error"]["details"]
    assert (error["row"], error["field"]) == (2, "custom.parent_company")


# --- concurrent edits ----------------------------------------------------------------------


def test_two_clients_with_the_same_version_one_wins(company):
    customer = created(company.sales_a1.post("/api/v1/customers", json={"name": "甲"}))
    url = f"/api/v1/customers/{customer['id']}"

    answers = [
        company.sales_a1.patch(url, json={"grade": "A"}, headers={"If-Match": 'W/"1"'}),
        company.manager_a.patch(url, json={"grade": "C"}, headers={"If-Match": '"1"'}),
    ]

    assert sorted(a.status_code for a in answers) == [200, 409]
    assert company.sales_a1.get(url).get_json()["grade"] == "A"
    assert company.manager_a.get(url).get_json()["version"] == 2


def _export_rows(api) -> list[dict]:
    response = api.get("/api/v1/export/customers?format=csv")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_an_import_from_an_old_export_never_overwrites_a_newer_api_edit(company):
    manager = company.manager_a
    customer = created(manager.post("/api/v1/customers", json={"name": "甲", "grade": "A"}))
    (row,) = _export_rows(manager)
    assert row["version"] == "1"
    # Someone edits through the API after the export was taken ...
    url = f"/api/v1/customers/{customer['id']}"
    assert company.sales_a1.get(url).status_code == 404
    assert manager.patch(url, json={"version": 1, "region": "华东"}).status_code == 200
    # ... and the stale spreadsheet comes back with another change.
    stale = csv_bytes([list(row), [*{**row, "grade": "C"}.values()]])

    response = upload(manager, "customers", stale)

    assert response.status_code == 422
    (error,) = response.get_json()["error"]["details"]
    assert (error["row"], error["field"]) == (2, "version")
    assert "export it again" in error["message"]
    after = manager.get(url).get_json()
    assert (after["grade"], after["region"], after["version"]) == ("A", "华东", 2)
    # A fresh export imports fine.
    (fresh,) = _export_rows(manager)
    again = upload(
        manager, "customers", csv_bytes([list(fresh), [*{**fresh, "grade": "C"}.values()]])
    )
    assert again.status_code == 201, again.get_json()
    assert manager.get(url).get_json()["grade"] == "C"


def test_an_import_racing_an_api_edit_of_the_same_record_one_wins(
    company, session_factory, monkeypatch
):
    """The API edit commits after the import loaded the record: the import's compare-and-swap
    fails, the row is reported and nothing of the file is written."""
    manager = company.manager_a
    customer = created(manager.post("/api/v1/customers", json={"name": "甲", "grade": "A"}))
    update = record_service.update_record

    def someone_edits_first(*args, **kwargs):
        with session_factory() as other:
            record = other.get(Customer, customer["id"])
            record.region, record.version = "华南", record.version + 1
            other.commit()
        return update(*args, **kwargs)

    monkeypatch.setattr(record_service, "update_record", someone_edits_first)
    content = csv_bytes([["id", "grade"], [customer["id"], "C"]])

    response = upload(manager, "customers", content)

    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "version"
    assert "the record is now at 2" in response.get_json()["error"]["details"][0]["message"]
    assert manager.get(f"/api/v1/customers/{customer['id']}").get_json()["grade"] == "A"
