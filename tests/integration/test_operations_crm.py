"""Service tasks calling CRM operations as the instance's starter, through the REST API."""

from __future__ import annotations

from tests.support.bpmn import linear_process
from tests.support.service_tasks import service_task

CUSTOMER = {"name": "苏州锦华纺织有限公司", "grade": "A"}
QUOTE_LINES = '[{"description": "全棉府绸 60支", "quantity": 100, "unit_price": 12.5}]'


def deploy(designer, *elements, pid="ops"):
    response = designer.upload((f"{pid}.bpmn", linear_process(pid, *elements)))
    assert response.status_code == 201, response.get_json()


def start(api, key="ops", data=None):
    response = api.post("/api/v1/process-instances", json={"process_key": key, "data": data or {}})
    assert response.status_code == 201, response.get_json()
    return fetch(api, response.get_json()["id"])


def fetch(api, instance_id):
    return api.get(f"/api/v1/process-instances/{instance_id}").get_json()


def new_customer(api, **changes):
    response = api.post("/api/v1/customers", json={**CUSTOMER, **changes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def only_incident(body) -> str:
    assert body["status"] == "error", body
    [incident] = body["incidents"]
    return incident["message"]


def test_get_record_reads_as_the_starter(designer, company):
    deploy(
        designer,
        service_task("read", "crm.get_record", "found", collection='"customers"', id="customer_id"),
    )
    customer = new_customer(company.sales_a1)
    body = start(company.sales_a1, data={"customer_id": customer["id"]})
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["found"]["name"] == CUSTOMER["name"]
    assert body["data"]["found"]["grade"] == "A"


def test_a_record_outside_the_starters_scope_is_an_incident_on_the_task(designer, company):
    deploy(
        designer,
        service_task("read", "crm.get_record", "found", collection='"customers"', id="customer_id"),
    )
    customer = new_customer(company.sales_a1)
    body = start(company.sales_b, data={"customer_id": customer["id"]})
    message = only_incident(body)
    assert message.startswith("crm.get_record: ")
    assert f"no customers record {customer['id']} that you can see" in message
    assert body["incidents"][0]["task_name"] == "read"


def test_create_quote_prices_the_lines_and_belongs_to_the_starter(designer, company):
    deploy(
        designer,
        service_task(
            "make_quote",
            "crm.create_quote",
            customer_id="customer_id",
            quote_no='"Q-" + str(customer_id) + "-1"',
            lines=QUOTE_LINES,
            discount_percent="8",
        ),
    )
    sales = company.sales_a1
    customer = new_customer(sales)
    body = start(sales, data={"customer_id": customer["id"]})
    assert body["status"] == "completed", body["incidents"]
    quote = body["data"]["quote"]  # the operation's default result variable
    assert quote["subtotal"] == 1250.0 and quote["discount_amount"] == 100.0
    assert quote["total"] == 1150.0
    stored = sales.get(f"/api/v1/quotes/{quote['id']}").get_json()
    assert stored["owner_id"] == sales.user.id
    assert stored["quote_no"] == f"Q-{customer['id']}-1"


def test_a_failing_operation_writes_nothing_and_can_be_retried_with_fixed_data(designer, company):
    deploy(
        designer,
        service_task(
            "make_quote",
            "crm.create_quote",
            customer_id="customer_id",
            quote_no='"Q-RETRY"',
            lines='[{"description": "涤纶", "quantity": quantity, "unit_price": 10}]',
        ),
    )
    sales = company.sales_a1
    customer = new_customer(sales)
    body = start(sales, data={"customer_id": customer["id"], "quantity": 0})
    message = only_incident(body)
    assert "crm.create_quote" in message and "lines.0.quantity" in message
    assert sales.get("/api/v1/quotes").get_json()["total"] == 0

    retried = designer.post(
        f"/api/v1/process-instances/{body['id']}/retry", json={"data": {"quantity": 5}}
    )
    assert retried.status_code == 200, retried.get_json()
    assert fetch(sales, body["id"])["status"] == "completed"
    assert sales.get("/api/v1/quotes").get_json()["total"] == 1


def test_bad_parameter_values_are_reported_field_by_field(designer, company):
    deploy(
        designer,
        service_task("read", "crm.get_record", collection='"spaceships"', id='"seven"'),
    )
    message = only_incident(start(company.sales_a1))
    assert "crm.get_record" in message
    assert "collection: Unknown collection" in message
    assert "id: Not a valid integer" in message


def test_update_record_changes_fields_with_audit_and_version(designer, company):
    deploy(
        designer,
        service_task(
            "regrade",
            "crm.update_record",
            "customer_after",
            collection='"customers"',
            id="customer_id",
            data='{"grade": "B", "industry": "纺织 " + reason}',
        ),
    )
    sales = company.sales_a1
    customer = new_customer(sales)
    body = start(sales, data={"customer_id": customer["id"], "reason": "逾期"})
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["customer_after"]["version"] == customer["version"] + 1
    stored = sales.get(f"/api/v1/customers/{customer['id']}").get_json()
    assert (stored["grade"], stored["industry"]) == ("B", "纺织 逾期")


def test_create_record_and_log_interaction(designer, company):
    deploy(
        designer,
        service_task(
            "open_opportunity",
            "crm.create_record",
            "opportunity",
            collection='"opportunities"',
            data='{"customer_id": customer_id, "title": "春季面料订货", "amount": 50000}',
        ),
        service_task(
            "log_call",
            "crm.log_interaction",
            customer_id="customer_id",
            contact_id="None",  # no contact person known yet: an optional reference may be None
            channel='"phone"',
            summary='"电话确认需求 Needs confirmed by phone"',
            subject_type='"opportunities"',
            subject_id='opportunity["id"]',
        ),
    )
    sales = company.sales_a1
    customer = new_customer(sales)
    body = start(sales, data={"customer_id": customer["id"]})
    assert body["status"] == "completed", body["incidents"]
    opportunity = body["data"]["opportunity"]
    interaction = body["data"]["interaction"]
    assert interaction["subject_id"] == str(opportunity["id"])
    listed = sales.get("/api/v1/interactions").get_json()["items"]
    assert [(i["summary"], i["owner_id"]) for i in listed] == [
        ("电话确认需求 Needs confirmed by phone", sales.user.id)
    ]


def test_assign_owner_uses_the_starters_right_to_hand_over(designer, company):
    deploy(
        designer,
        service_task(
            "hand_over", "crm.assign_owner", collection='"customers"', id="customer_id", owner="to"
        ),
    )
    customer = new_customer(company.sales_a1)
    new_owner = company.sales_a1_peer.user
    # A manager of the branch may hand the customer over...
    body = start(company.manager_a, data={"customer_id": customer["id"], "to": new_owner.username})
    assert body["status"] == "completed", body["incidents"]
    assert body["data"]["record"]["owner_id"] == new_owner.id
    # ...a salesperson may not give their records away, and the process cannot either.
    mine = new_customer(company.sales_a1, name="另一家客户")
    refused = start(company.sales_a1, data={"customer_id": mine["id"], "to": new_owner.id})
    assert "You may not hand records to someone else" in only_incident(refused)
    unknown = start(company.manager_a, data={"customer_id": customer["id"], "to": "nobody"})
    assert "No active user 'nobody'" in only_incident(unknown)
