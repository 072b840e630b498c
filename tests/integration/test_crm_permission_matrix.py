"""The permission matrix through the API: roles × data scopes × list, count, search, detail,
guessing by id, filters and export; and sensitive fields masked everywhere they show."""

from __future__ import annotations

import csv
import io

import pytest

from crm_domain.customers import Customer, pinyin_of
from crm_domain.org import create_org_unit
from crm_domain.roles import Role

# Who owns each customer, and the org unit it is filed under. The viewer sits in branch A.
#   K1, K2: two people of office A1 (below branch A)   K3: the viewer   K5: a branch A colleague
#   K4: a person in branch B                            K6: the viewer's, filed under branch B
CUSTOMERS = {
    "K1华东纺织": ("office_person", "a1"),
    "K2华东纺织": ("office_peer", "a1"),
    "K3华东纺织": ("viewer", "a"),
    "K4华南纺织": ("south_person", "b"),
    "K5华东纺织": ("branch_peer", "a"),
    "K6华南纺织": ("viewer", "b"),
}
SEES = {
    "own": {"K3华东纺织", "K6华南纺织"},  # owned by the viewer, wherever filed
    "unit": {"K3华东纺织", "K5华东纺织", "K6华南纺织"},  # + filed under the viewer's unit
    "subtree": {"K1华东纺织", "K2华东纺织", "K3华东纺织", "K5华东纺织", "K6华南纺织"},
    "all": set(CUSTOMERS),
}
# The built-in roles and the scope they carry on customers; whether they may export.
BUILT_IN = [
    ("salesperson", "own", False),
    ("service_agent", "unit", False),
    ("sales_manager", "subtree", True),
    ("executive", "all", True),
]


@pytest.fixture
def tree(session, make_user, api_as):
    group = create_org_unit(session, "锦华集团", "group")
    branch_a = create_org_unit(session, "华东分公司", "branch", group.id)
    office_a1 = create_org_unit(session, "苏州办事处", "office", branch_a.id)
    branch_b = create_org_unit(session, "华南分公司", "branch", group.id)
    units = {"group": group, "a": branch_a, "a1": office_a1, "b": branch_b}
    people = {
        "office_person": make_user("salesperson", org_unit_id=office_a1.id),
        "office_peer": make_user("salesperson", org_unit_id=office_a1.id),
        "branch_peer": make_user("salesperson", org_unit_id=branch_a.id),
        "south_person": make_user("salesperson", org_unit_id=branch_b.id),
    }
    for scope in ("own", "unit", "subtree", "all"):  # one custom role per scope, export, no PII
        session.add(
            Role(
                key=f"reader_{scope}",
                name={"zh": f"只读{scope}", "en": f"Reader {scope}"},
                permissions={"customers": {"actions": ["read"], "scope": scope}},
                grants=["export"],
            )
        )
    session.commit()

    def viewer_with(*roles):
        viewer = make_user(*roles, org_unit_id=branch_a.id)
        owners = {**people, "viewer": viewer}
        ids = {}
        for name, (owner, unit) in CUSTOMERS.items():
            customer = Customer(
                name=name,
                pinyin=pinyin_of(name),
                owner_id=owners[owner].id,
                org_unit_id=units[unit].id,
                tax_id=f"9132050000000{len(ids):05d}",
                bank_account=f"62170000{len(ids):08d}",
                custom={},
            )
            session.add(customer)
            session.flush()
            ids[name] = customer.id
        session.commit()
        return api_as(user=viewer), ids

    class Tree:
        pass

    Tree.units, Tree.viewer_with = units, viewer_with
    return Tree


def _names(api, query: str = "") -> tuple[set, int]:
    response = api.get(f"/api/v1/customers{query}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {item["name"] for item in body["items"]}, body["total"]


def _exported_names(api) -> set:
    response = api.get("/api/v1/export/customers?format=csv")
    assert response.status_code == 200, response.get_json()
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return {row["name"] for row in rows}


def _check_scope(api, ids: dict, expected: set, units) -> None:
    # list and its total
    assert _names(api) == (expected, len(expected))
    # the count does not depend on the page: one row per page, same total
    one, total = _names(api, "?per_page=1&sort=name")
    assert total == len(expected) and one <= expected
    # search: "纺织" is in every name; the pinyin of a record outside scope finds nothing
    assert _names(api, "?q=纺织") == (expected, len(expected))
    assert _names(api, "?q=k4huanan")[1] == (1 if "K4华南纺织" in expected else 0)
    # a filter cannot widen the scope
    in_b = {name for name in expected if CUSTOMERS[name][1] == "b"}
    assert _names(api, f"?org_unit_id={units['b'].id}") == (in_b, len(in_b))
    # detail: visible ids answer 200; the others are indistinguishable from ids never used
    never_used = max(ids.values()) + 1000
    unknown = api.get(f"/api/v1/customers/{never_used}")
    assert unknown.status_code == 404
    for name, record_id in ids.items():
        response = api.get(f"/api/v1/customers/{record_id}")
        if name in expected:
            assert response.status_code == 200, name
        else:
            assert response.status_code == 404, name
            assert response.get_json()["error"]["code"] == "not_found"
            assert api.get(f"/api/v1/customers/{record_id}/history").status_code == 404
            assert api.get(f"/api/v1/customers/{record_id}/timeline").status_code == 404


@pytest.mark.parametrize("scope", ["own", "unit", "subtree", "all"])
def test_each_scope_limits_list_count_search_detail_and_export(tree, scope):
    api, ids = tree.viewer_with(f"reader_{scope}")

    _check_scope(api, ids, SEES[scope], tree.units)
    assert _exported_names(api) == SEES[scope]
    filtered = api.get("/api/v1/export/customers?format=csv&q=华南")
    assert filtered.status_code == 200
    assert {n for n in SEES[scope] if "华南" in n} == {
        row["name"] for row in csv.DictReader(io.StringIO(filtered.get_data().decode("utf-8-sig")))
    }


@pytest.mark.parametrize(("role", "scope", "may_export"), BUILT_IN)
def test_the_built_in_roles_carry_their_scopes(tree, role, scope, may_export):
    api, ids = tree.viewer_with(role)

    _check_scope(api, ids, SEES[scope], tree.units)
    export = api.get("/api/v1/export/customers?format=csv")
    if may_export:
        assert export.status_code == 200
        assert _exported_names(api) == SEES[scope]
    else:
        assert export.status_code == 403
        assert export.get_json()["error"]["code"] == "forbidden"


def test_the_widest_scope_of_several_roles_applies(tree):
    api, ids = tree.viewer_with("reader_own", "reader_subtree")

    _check_scope(api, ids, SEES["subtree"], tree.units)


def test_no_read_right_is_403_not_an_empty_list(tree):
    api, ids = tree.viewer_with("process_designer")

    assert api.get("/api/v1/customers").status_code == 403
    assert api.get(f"/api/v1/customers/{ids['K3华东纺织']}").status_code == 403
    assert api.get("/api/v1/export/customers").status_code == 403


# --- sensitive fields ----------------------------------------------------------------------

TAX_ID = "91320500MA1XYZ1234"
ACCOUNT = "1102020109000123456"


@pytest.mark.parametrize(("grants", "masked"), [([], True), (["view_sensitive"], False)])
def test_sensitive_fields_are_masked_in_list_detail_history_export_and_timeline(
    session, make_user, api_as, grants, masked
):
    unit = create_org_unit(session, "华东分公司", "branch")
    session.add(
        Role(
            key="clerk",
            name={"zh": "文员", "en": "Clerk"},
            permissions={
                "customers": {"actions": ["read", "create", "update"], "scope": "unit"},
                "interactions": {"actions": ["read", "create"], "scope": "unit"},
            },
            grants=["export", *grants],
        )
    )
    session.commit()
    admin = api_as("admin")
    clerk = api_as(user=make_user("clerk", org_unit_id=unit.id))
    defined = admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "customers",
            "name": "id_card",
            "type": "text",
            "label": {"zh": "身份证号", "en": "ID card"},
            "sensitive": True,
        },
    )
    assert defined.status_code == 201, defined.get_json()
    created = clerk.post(
        "/api/v1/customers",
        json={
            "name": "张三布行",
            "kind": "individual",
            "tax_id": TAX_ID,
            "bank_account": ACCOUNT,
            "custom": {"id_card": "320502199001011234"},
        },
    )
    assert created.status_code == 201, created.get_json()
    customer = created.get_json()
    url = f"/api/v1/customers/{customer['id']}"
    changed = clerk.patch(url, json={"version": 1, "bank_account": "6217000010009999"})
    assert changed.status_code == 200, changed.get_json()
    clerk.post(
        "/api/v1/interactions",
        json={"customer_id": customer["id"], "channel": "phone", "summary": "对账"},
    )

    views = {
        "create": customer,
        "detail": clerk.get(url).get_json(),
        "list": clerk.get("/api/v1/customers").get_json()["items"][0],
        "history": clerk.get(f"{url}/history").get_json(),
        "timeline": clerk.get(f"{url}/timeline").get_json(),
        "export": clerk.get("/api/v1/export/customers?format=csv").get_data().decode("utf-8-sig"),
    }
    secrets = (TAX_ID, ACCOUNT, "6217000010009999", "320502199001011234")
    if masked:
        for where, view in views.items():
            text = view if isinstance(view, str) else str(view)
            assert not [s for s in secrets if s in text], where
        assert views["detail"]["tax_id"].endswith("1234") and "*" in views["detail"]["tax_id"]
        assert views["detail"]["custom"]["id_card"].endswith("1234")
        changes = views["history"]["items"][1]["changes"]
        assert changes["bank_account"][1].endswith("9999") and "*" in changes["bank_account"][1]
        # The searchable columns do not include the masked ones either.
        assert clerk.get("/api/v1/customers?q=MA1XYZ").get_json()["total"] == 0
    else:
        assert views["detail"]["tax_id"] == TAX_ID
        assert views["detail"]["custom"]["id_card"] == "320502199001011234"
        changes = views["history"]["items"][1]["changes"]
        assert changes["bank_account"] == [ACCOUNT, "6217000010009999"]
        assert TAX_ID in views["export"] and "6217000010009999" in views["export"]
        assert clerk.get("/api/v1/customers?q=MA1XYZ").get_json()["total"] == 1


def test_masked_fields_cannot_be_probed_by_filter_or_sort(session, make_user, api_as):
    """Equality filters and sorting would reveal a masked value one guess at a time."""
    unit = create_org_unit(session, "华东分公司", "branch")
    session.commit()
    admin = api_as("admin")
    defined = admin.post(
        "/api/v1/admin/fields",
        json={
            "collection": "customers",
            "name": "id_card",
            "type": "text",
            "label": {"zh": "身份证号", "en": "ID card"},
            "sensitive": True,
        },
    )
    assert defined.status_code == 201, defined.get_json()
    salesperson = api_as(user=make_user("salesperson", org_unit_id=unit.id))  # no view_sensitive
    salesperson.post(
        "/api/v1/customers",
        json={"name": "张三布行", "tax_id": TAX_ID, "custom": {"id_card": "320502199001011234"}},
    )

    for query in (f"tax_id={TAX_ID}", "bank_account=1", "custom.id_card=320502199001011234"):
        refused = salesperson.get(f"/api/v1/customers?{query}")
        assert refused.status_code == 422, query
        (field,) = refused.get_json()["error"]["details"]
        assert "view_sensitive" in refused.get_json()["error"]["details"][field][0]
        assert salesperson.get(f"/api/v1/export/customers?{query}").status_code in (403, 422)
    assert salesperson.get("/api/v1/customers?sort=custom.id_card").status_code == 422
    manager = api_as(user=make_user("sales_manager", org_unit_id=unit.id))  # view_sensitive
    assert manager.get(f"/api/v1/customers?tax_id={TAX_ID}").get_json()["total"] == 1
    assert (
        manager.get("/api/v1/customers?custom.id_card=320502199001011234").get_json()["total"] == 1
    )
    assert manager.get("/api/v1/customers?sort=custom.id_card").status_code == 200
