"""Small BPMN documents for tests, written the way a designer's tool writes them."""

from __future__ import annotations

import itertools
import re

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'id="defs_{pid}" targetNamespace="https://weft.example/tests">\n'
)


def user_task(task_id: str, name: str, form_key: str | None = None, **props: str) -> str:
    properties = dict(props)
    if form_key:
        properties["formKey"] = form_key
    ext = ""
    if properties:
        items = "".join(
            f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in properties.items()
        )
        ext = (
            "<bpmn:extensionElements><spiffworkflow:properties>"
            f"{items}</spiffworkflow:properties></bpmn:extensionElements>"
        )
    return f'<bpmn:userTask id="{task_id}" name="{name}">{ext}</bpmn:userTask>'


def script_task(task_id: str, script: str, name: str | None = None) -> str:
    from xml.sax.saxutils import escape

    return (
        f'<bpmn:scriptTask id="{task_id}" name="{name or task_id}" scriptFormat="python">'
        f"<bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>"
    )


def timer_event(event_id: str, duration: str) -> str:
    return (
        f'<bpmn:intermediateCatchEvent id="{event_id}" name="{event_id}">'
        f'<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'
        f"{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


def message_catch(event_id: str, message_ref: str, variable: str | None = None) -> str:
    ext = ""
    if variable:
        ext = (
            "<bpmn:extensionElements><spiffworkflow:messageVariable>"
            f"{variable}</spiffworkflow:messageVariable></bpmn:extensionElements>"
        )
    return (
        f'<bpmn:intermediateCatchEvent id="{event_id}" name="{event_id}">'
        f'<bpmn:messageEventDefinition messageRef="{message_ref}">{ext}'
        "</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>"
    )


def linear_process(
    pid: str,
    *elements: str,
    lanes: dict[str, list[str]] | None = None,
    prelude: str = "",
    start: str | None = None,
    name: str | None = None,
) -> bytes:
    """A process start -> elements... -> end, with flows wired in order."""
    ids = [re.search(r'id="([^"]+)"', e).group(1) for e in elements]
    start_el = start or '<bpmn:startEvent id="start"/>'
    chain = ["start", *ids, "end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(chain))
    )
    lane_xml = ""
    if lanes:
        lane_xml = (
            '<bpmn:laneSet id="lanes">'
            + "".join(
                f'<bpmn:lane id="lane_{role}" name="{role}">'
                + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
                + "</bpmn:lane>"
                for role, refs in lanes.items()
            )
            + "</bpmn:laneSet>"
        )
    body = (
        f'{prelude}<bpmn:process id="{pid}" name="{name or pid}" isExecutable="true">{lane_xml}'
        f'{start_el}{"".join(elements)}<bpmn:endEvent id="end"/>{flows}</bpmn:process>'
    )
    return (HEADER.format(pid=pid) + body + "</bpmn:definitions>").encode()


def form(key: str, *fields: dict) -> bytes:
    import json

    return json.dumps(
        {"key": key, "title": {"zh": key, "en": key}, "fields": list(fields)}
    ).encode()
