"""engine.parsing: what an upload becomes, and every way it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadRequest, Invalid, PayloadTooLarge
from engine import sandbox
from engine.parsing import ParsedBundle, UploadedFile, parse_bundle

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"
ACCEPTABLE = (Invalid, BadRequest, PayloadTooLarge)


def upload(*names: str) -> list[UploadedFile]:
    return [UploadedFile(name, (FIXTURES / name).read_bytes()) for name in names]


def text_of(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def refusal(files: list[UploadedFile], **kwargs) -> list[dict]:
    with pytest.raises(Invalid) as info:
        parse_bundle(files, **kwargs)
    details = info.value.details
    assert details, "an Invalid must say why"
    for detail in details:
        assert set(detail) == {"message", "line", "element_id", "file"}
        assert detail["message"]
    return details


def one(details: list[dict], needle: str) -> dict:
    found = [d for d in details if needle in d["message"]]
    assert len(found) == 1, f"expected one detail with {needle!r} in {details}"
    return found[0]


def line_of(name: str, needle: str) -> int:
    for number, line in enumerate(text_of(name).splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {name}")


def bpmn(body: str, *, process_id: str = "inline", extra_ns: str = "") -> bytes:
    """A one-process BPMN document around `body`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" {extra_ns}
    id="{process_id}_definitions" targetNamespace="https://weft.example/tests">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>flow_start</bpmn:outgoing></bpmn:startEvent>
{body}
  </bpmn:process>
</bpmn:definitions>
""".encode()


def straight_through(task: str) -> bytes:
    """start -> task -> end, where `task` is the XML of an element with id 'work'."""
    return bpmn(
        f"""{task}
    <bpmn:endEvent id="end"><bpmn:incoming>flow_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="flow_end" sourceRef="work" targetRef="end" />"""
    )


def user_task(properties: str) -> bytes:
    return straight_through(
        f"""<bpmn:userTask id="work" name="Work">
      <bpmn:extensionElements><spiffworkflow:properties>{properties}</spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_start</bpmn:incoming><bpmn:outgoing>flow_end</bpmn:outgoing>
    </bpmn:userTask>"""
    )


def timer_process(kind: str, value: str) -> bytes:
    return straight_through(
        f"""<bpmn:intermediateCatchEvent id="work" name="Wait">
      <bpmn:incoming>flow_start</bpmn:incoming><bpmn:outgoing>flow_end</bpmn:outgoing>
      <bpmn:timerEventDefinition id="timer"><bpmn:{kind}>{value}</bpmn:{kind}>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>"""
    )


# --- accepted ------------------------------------------------------------------------------------


def test_a_process_with_a_user_task_form_and_gateway_parses():
    bundle = parse_bundle(upload("order_approval.bpmn", "order_decision.json"))

    assert isinstance(bundle, ParsedBundle)
    [process] = bundle.processes
    assert (process.key, process.name) == ("order_approval", "Order approval")
    assert process.bpmn_filename == "order_approval.bpmn"
    assert process.form_keys == {"order_decision"}
    assert process.source_files == {"order_approval.bpmn": text_of("order_approval.bpmn")}
    assert set(bundle.forms) == {"order_decision"}
    assert process.subprocess_specs == {}
    task = process.spec.task_specs["approve_order"]
    assert task.lane == "sales_manager"
    assert task.extensions["properties"]["formKey"] == "order_decision"
    assert task.extensions["instructionsForEndUser"] == "Check the order and decide."
    gateway = process.spec.task_specs["approved_gateway"]
    assert {target for _, target in gateway.cond_task_specs} == {"record_approval", "end_rejected"}


def test_a_form_already_deployed_satisfies_a_form_key():
    bundle = parse_bundle(upload("order_approval.bpmn"), known_form_keys={"order_decision"})

    assert bundle.processes[0].form_keys == {"order_decision"}
    assert bundle.forms == {}


def test_bare_iso_timers_are_accepted_and_evaluate_to_the_iso_text():
    [process] = parse_bundle(upload("iso_timers.bpmn")).processes

    expressions = {
        name: process.spec.task_specs[name].event_definition.expression
        for name in ("wait_three_days", "daily_reminder", "wait_for_new_year")
    }
    assert expressions == {
        "wait_three_days": '"P3D"',
        "daily_reminder": '"R6/P1D"',
        "wait_for_new_year": '"2027-01-01T09:00:00Z"',
    }
    for expression in expressions.values():
        assert sandbox_evaluate(expression) == expression.strip('"')


def test_a_bare_iso_due_in_is_quoted_like_a_timer():
    [process] = parse_bundle(upload("order_approval.bpmn", "order_decision.json")).processes

    due_in = process.spec.task_specs["approve_order"].extensions["properties"]["dueIn"]
    assert due_in == '"P2D"'
    assert sandbox_evaluate(due_in) == "P2D"


def test_a_call_activity_resolves_to_a_deployed_process():
    bundle = parse_bundle(
        upload("call_shared.bpmn"), library_bpmn={"credit_check.bpmn": text_of("credit_check.bpmn")}
    )

    [process] = bundle.processes  # the library's process is not redeployed
    assert process.key == "onboard_customer"
    assert set(process.subprocess_specs) == {"credit_check"}
    assert set(process.source_files) == {"call_shared.bpmn", "credit_check.bpmn"}


def test_an_upload_replaces_the_deployed_version_of_its_process():
    library = {"old_name.bpmn": text_of("credit_check.bpmn")}

    bundle = parse_bundle(upload("call_shared.bpmn", "credit_check.bpmn"), library_bpmn=library)

    assert {p.key for p in bundle.processes} == {"onboard_customer", "credit_check"}
    onboard = next(p for p in bundle.processes if p.key == "onboard_customer")
    assert set(onboard.source_files) == {"call_shared.bpmn", "credit_check.bpmn"}


def test_a_business_rule_task_runs_an_uploaded_decision():
    bundle = parse_bundle(upload("order_discount.bpmn", "discount_decision.dmn"))

    [process] = bundle.processes
    assert bundle.decision_ids == {"discount_decision.dmn": ["discount_decision"]}
    assert bundle.dmn_files == {"discount_decision.dmn": text_of("discount_decision.dmn")}
    assert set(process.source_files) == {"order_discount.bpmn", "discount_decision.dmn"}
    assert process.spec.task_specs["pick_discount"].dmnEngine is not None


def test_a_business_rule_task_may_run_a_deployed_decision():
    library = {"discount_decision.dmn": text_of("discount_decision.dmn")}

    bundle = parse_bundle(upload("order_discount.bpmn"), library_dmn=library)

    assert bundle.dmn_files == {}
    assert "discount_decision.dmn" in bundle.processes[0].source_files


# --- hostile XML ---------------------------------------------------------------------------------


def test_not_xml_is_refused_with_the_line():
    content = b'<?xml version="1.0"?>\n<bpmn:definitions>\n  <oops>\n</bpmn:definitions>\n'

    [detail] = refusal([UploadedFile("broken.bpmn", content)])

    assert "not well-formed XML" in detail["message"]
    assert detail["file"] == "broken.bpmn"
    assert detail["line"] in (2, 4)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!-- a comment first does not hide it -->
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&xxe;</bpmn:definitions>
"""


@pytest.mark.parametrize("content", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "xxe"])
def test_doctype_declarations_are_refused(content):
    [detail] = refusal([UploadedFile("attack.bpmn", content)])

    assert "DOCTYPE declarations are not allowed" in detail["message"]
    assert "root:" not in str(detail)  # nothing of /etc/passwd leaks into the answer


def test_text_that_is_not_utf8_is_refused():
    content = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<a name="Müller"/>'.encode("latin-1")

    [detail] = refusal([UploadedFile("latin.bpmn", content)])

    assert "not UTF-8" in detail["message"]
    assert detail["line"] == 2


@pytest.mark.parametrize(
    ("filename", "content", "needle"),
    [
        ("old.bpmn", b'<definitions xmlns="http://example.com/bpmn1"/>', "not a BPMN 2.0 file"),
        ("plain.bpmn", b"<definitions/>", "not a BPMN 2.0 file"),
        ("decision.dmn", bpmn(""), "not a supported DMN file"),
    ],
)
def test_a_wrong_root_namespace_is_refused(filename, content, needle):
    [detail] = refusal([UploadedFile(filename, content)])

    assert needle in detail["message"]
    assert detail["line"] == 1 or filename == "decision.dmn"


# --- BPMN that Weft does not run ---------------------------------------------------------------


def test_an_element_the_xsd_does_not_allow_is_refused_with_line_and_id():
    details = refusal(upload("xsd_invalid.bpmn"))

    detail = one(details, "wobbleTask")
    assert detail["message"].startswith("Not valid BPMN")
    assert detail["line"] == line_of("xsd_invalid.bpmn", "wobbleTask")
    assert detail["element_id"] == "wobble"


def test_a_file_without_an_executable_process_is_refused():
    [detail] = refusal(upload("not_executable.bpmn"))

    assert detail["message"].startswith("No executable process: set isExecutable=true")
    assert detail["element_id"] == "sketch"


def test_a_script_syntax_error_names_the_task_and_the_lines():
    [detail] = refusal(upload("script_syntax_error.bpmn"))

    assert detail["element_id"] == "compute"
    assert detail["line"] == line_of("script_syntax_error.bpmn", "<bpmn:script>")
    assert "line 2 of the script" in detail["message"]


def test_a_script_that_imports_is_refused():
    [detail] = refusal(upload("script_import.bpmn"))

    assert detail["element_id"] == "compute"
    assert "line 1 of the script" in detail["message"]
    assert "import" in detail["message"].lower()


def test_a_form_neither_uploaded_nor_deployed_is_refused():
    [detail] = refusal(upload("missing_form.bpmn"), known_form_keys={"other_form"})

    assert detail["message"] == (
        "Form 'nowhere_form' used by task 'Fill in' is not in this upload and not deployed."
    )
    assert detail["element_id"] == "fill_in"


def test_a_call_activity_that_resolves_nowhere_is_refused():
    [detail] = refusal(upload("unresolved_call.bpmn"))

    assert "calls process 'no_such_process'" in detail["message"]
    assert detail["element_id"] == "call_missing"
    assert detail["line"] == line_of("unresolved_call.bpmn", 'id="call_missing"')


def test_a_decision_that_resolves_nowhere_is_refused():
    [detail] = refusal(upload("order_discount.bpmn"))

    assert "calls decision 'discount_decision'" in detail["message"]
    assert detail["element_id"] == "pick_discount"


def test_data_stores_are_refused():
    details = refusal(upload("data_store.bpmn"))

    assert {d["element_id"] for d in details} == {"erp_store", "erp_reference"}
    assert all(d["message"].startswith("Data stores are not supported") for d in details)


def test_foreign_expression_languages_and_engine_settings_are_refused():
    details = refusal(upload("foreign_language.bpmn"))

    by_element = {d["element_id"]: d["message"] for d in details}
    assert "expression language Java is not supported" in by_element["flow_java"]
    assert "JUEL" in by_element["flow_juel"]
    assert "FEEL" in by_element["flow_feel"]
    assert "Weft conditions are Python expressions" in by_element["flow_feel"]
    assert "'groovy'" in by_element["groovy_task"]
    assert "camunda:class" in by_element["camunda_task"]
    assert "serviceTaskOperator" in by_element["camunda_task"]


def test_zeebe_job_workers_and_camunda_forms_are_refused():
    content = straight_through(
        """<bpmn:serviceTask id="work" name="Mail">
      <bpmn:extensionElements><zeebe:taskDefinition type="email" /></bpmn:extensionElements>
      <bpmn:incoming>flow_start</bpmn:incoming><bpmn:outgoing>flow_end</bpmn:outgoing>
    </bpmn:serviceTask>"""
    ).replace(b"<bpmn:serviceTask", b'<bpmn:userTask camunda:formKey="x" id="u"/><bpmn:serviceTask')
    content = content.replace(
        b"xmlns:xsi=",
        b'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi=',
    )

    details = refusal([UploadedFile("zeebe.bpmn", content)])

    assert "zeebe:taskDefinition" in one(details, "zeebe:taskDefinition")["message"]
    assert one(details, "zeebe:taskDefinition")["element_id"] == "work"
    assert one(details, "camunda:formKey")["element_id"] == "u"


def test_a_process_without_a_start_event_is_refused():
    [detail] = refusal(upload("no_start_event.bpmn"))

    assert "has no start event" in detail["message"]
    assert detail["element_id"] == "no_start_event"


def test_a_lane_of_user_tasks_must_be_named_like_a_role_key():
    [detail] = refusal(upload("bad_lane.bpmn"))

    assert detail["element_id"] == "lane_managers"
    assert "is not a role key" in detail["message"]
    assert "'sales_managers'" in detail["message"]


@pytest.mark.parametrize(
    ("kind", "value", "needle"),
    [
        ("timeDuration", "R6/P1D", "needs a duration"),
        ("timeCycle", "P1D", "needs a cycle"),
        ("timeDuration", '"P3X"', "not an ISO 8601 duration"),
        ("timeDate", "2027-13-01T09:00:00Z", "Timer of 'Wait'"),
        ("timeDuration", "", "is empty"),
        ("timeCycle", "0 0 9 * * ?", "Timer of 'Wait'"),
    ],
)
def test_timer_text_must_be_iso_or_a_python_expression(kind, value, needle):
    [detail] = refusal([UploadedFile("timer.bpmn", timer_process(kind, value))])

    assert needle in detail["message"]
    assert detail["element_id"] == "work"


@pytest.mark.parametrize(
    "value", ['"PT5M"', "reminder_interval", "R/PT5M", "2027-01-01T09:00:00+08:00"]
)
def test_timer_expressions_and_offsets_are_accepted(value):
    kind = "timeCycle" if value.startswith("R") else "timeDuration"
    if value.startswith("2027"):
        kind = "timeDate"

    bundle = parse_bundle([UploadedFile("timer.bpmn", timer_process(kind, value))])

    assert bundle.processes[0].key == "inline"


@pytest.mark.parametrize(
    ("properties", "needle"),
    [
        ('<spiffworkflow:property name="priority" value="high" />', "whole number from 0 to 9"),
        ('<spiffworkflow:property name="assignee" value="owner(" />', "Assignee of task 'Work'"),
        ('<spiffworkflow:property name="dueIn" value="\'tomorrow\'" />', "ISO 8601 duration"),
        ('<spiffworkflow:property name="formKey" value="" />', "empty formKey"),
        ('<spiffworkflow:property name="dueIn" />', "needs both a name and a value"),
    ],
)
def test_user_task_properties_are_checked(properties, needle):
    [detail] = refusal([UploadedFile("task.bpmn", user_task(properties))])

    assert needle in detail["message"]
    assert detail["element_id"] == "work"


def test_problems_in_several_files_are_reported_together():
    details = refusal(upload("data_store.bpmn", "missing_form.bpmn", "not_executable.bpmn"))

    assert {d["file"] for d in details} == {
        "data_store.bpmn",
        "missing_form.bpmn",
        "not_executable.bpmn",
    }


def test_the_same_process_id_in_two_uploaded_files_is_refused():
    files = [
        UploadedFile("a.bpmn", (FIXTURES / "credit_check.bpmn").read_bytes()),
        UploadedFile("b.bpmn", (FIXTURES / "credit_check.bpmn").read_bytes()),
    ]

    detail = one(refusal(files), "Process id 'credit_check' is also defined in 'a.bpmn'")
    assert detail["file"] == "b.bpmn"


def test_an_invalid_form_file_is_reported_with_its_file():
    files = [*upload("order_approval.bpmn"), UploadedFile("order_decision.json", b"{not json")]

    details = refusal(files)

    assert any(d["file"] == "order_decision.json" for d in details)
    one(details, "Form 'order_decision' used by task 'Approve order'")


# --- the upload itself ---------------------------------------------------------------------------


def test_a_file_over_the_size_cap_is_payload_too_large():
    with pytest.raises(PayloadTooLarge):
        parse_bundle(upload("order_approval.bpmn"), max_file_bytes=100)


def test_no_files_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_bundle([])


@pytest.mark.parametrize(
    "filename",
    ["../evil.bpmn", "folder/process.bpmn", "c:\\temp\\process.bpmn", "", "notes.txt", "a.xml"],
)
def test_a_bad_filename_is_a_bad_request(filename):
    with pytest.raises(BadRequest) as info:
        parse_bundle([UploadedFile(filename, bpmn(""))])

    assert info.value.details[0]["file"] == filename


def test_the_same_filename_twice_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_bundle(upload("order_approval.bpmn", "order_approval.bpmn"))


def test_content_that_is_not_bytes_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_bundle([UploadedFile("x.bpmn", "<definitions/>")])  # type: ignore[arg-type]


def test_a_bpmn20_xml_name_is_a_bpmn_file():
    bundle = parse_bundle(
        [UploadedFile("follow_up.bpmn20.xml", upload("iso_timers.bpmn")[0].content)]
    )

    assert bundle.processes[0].bpmn_filename == "follow_up.bpmn20.xml"


@pytest.mark.parametrize("cut", [1, 40, 200, 777, 1500, 2400, -40, -2])
def test_truncated_uploads_are_refused_not_crashed(cut):
    content = (FIXTURES / "order_approval.bpmn").read_bytes()[:cut]

    with pytest.raises(ACCEPTABLE):
        parse_bundle([UploadedFile("cut.bpmn", content)], known_form_keys={"order_decision"})


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe\x00<",
        b"<?xml version='1.0'?><x:definitions xmlns:x='http://www.omg.org/spec/BPMN/20100524/MODEL'/>",
        bpmn("<bpmn:task id='t'/><bpmn:sequenceFlow id='f' sourceRef='start' targetRef='t'/>"),
    ],
)
def test_odd_documents_get_an_honest_answer(content):
    try:
        parse_bundle([UploadedFile("odd.bpmn", content)])
    except ACCEPTABLE as exc:
        assert exc.message
        for detail in exc.details or []:
            assert detail["message"] and detail["file"] == "odd.bpmn"


@pytest.mark.parametrize(
    ("content", "element_id", "needle"),
    [
        (
            bpmn(
                "<bpmn:complexGateway id='g'/>"
                "<bpmn:sequenceFlow id='f' sourceRef='start' targetRef='g'/>"
            ),
            "g",
            "Weft cannot run bpmn:complexGateway elements",
        ),
        (
            bpmn("<bpmn:sequenceFlow id='f' sourceRef='start' targetRef='nowhere'/>"),
            "start",
            "leads to an element that is not in the same process",
        ),
        (
            straight_through(
                "<bpmn:boundaryEvent id='b' attachedToRef='work'/><bpmn:task id='work'>"
                "<bpmn:incoming>flow_start</bpmn:incoming><bpmn:outgoing>flow_end</bpmn:outgoing>"
                "</bpmn:task>"
            ),
            "b",
            "has no event definition",
        ),
        (
            straight_through(
                "<bpmn:intermediateCatchEvent id='work'>"
                "<bpmn:messageEventDefinition id='m' messageRef='nope'/>"
                "</bpmn:intermediateCatchEvent>"
            ),
            "work",
            "refers to a message, signal, error or escalation this file does not define",
        ),
        (
            bpmn(
                "<bpmn:exclusiveGateway id='g'/><bpmn:endEvent id='e1'/><bpmn:endEvent id='e2'/>"
                "<bpmn:sequenceFlow id='f' sourceRef='start' targetRef='g'/>"
                "<bpmn:sequenceFlow id='a' sourceRef='g' targetRef='e1'/>"
                "<bpmn:sequenceFlow id='b' sourceRef='g' targetRef='e2'/>"
            ),
            "a",
            "leaves a gateway without a condition and is not its default flow",
        ),
    ],
    ids=["complex-gateway", "dangling-flow", "bare-boundary", "unknown-message", "no-condition"],
)
def test_spiff_refusals_are_told_in_the_designers_terms(content, element_id, needle):
    [detail] = refusal([UploadedFile("odd.bpmn", content)])

    assert needle in detail["message"]
    assert detail["element_id"] == element_id
    assert detail["line"]


# --- helpers -----------------------------------------------------------------------------------


def sandbox_evaluate(expression: str):
    return sandbox.evaluate(expression, {})
