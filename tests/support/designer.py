"""The shipped quote discount approval process, and a version 2 with one more step.

Version 2 puts a user task "核对库存 Check stock" between the start and "准备报价 Prepare
quote" (what a designer does in the modeler), so tests can tell the versions apart by the
first task an instance waits in.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.definitions import UploadedFile, deploy_files
from tests.conftest import PROCESSES

FOLDER = PROCESSES / "approval"
BPMN = "quote_discount_approval.bpmn"
FORMS = ("prepare_quote.json", "discount_approval.json")
KEY = "quote_discount_approval"
NEW_STEP = "check_stock"
LIMIT = 5 * 1024 * 1024


def version_1_xml() -> str:
    return (FOLDER / BPMN).read_text(encoding="utf-8")


def version_2_xml() -> str:
    xml = version_1_xml()
    xml = xml.replace(
        '<bpmn:sequenceFlow id="flow_start_prepare" sourceRef="start" targetRef="prepare_quote" />',
        '<bpmn:sequenceFlow id="flow_start_prepare" sourceRef="start" targetRef="check_stock" />\n'
        '    <bpmn:sequenceFlow id="flow_check_prepare" sourceRef="check_stock" '
        'targetRef="prepare_quote" />\n'
        '    <bpmn:userTask id="check_stock" name="核对库存 Check stock">\n'
        "      <bpmn:incoming>flow_start_prepare</bpmn:incoming>\n"
        "      <bpmn:outgoing>flow_check_prepare</bpmn:outgoing>\n"
        "    </bpmn:userTask>",
    )
    xml = xml.replace(
        "<bpmn:incoming>flow_start_prepare</bpmn:incoming>\n      <bpmn:outgoing>flow_prepare",
        "<bpmn:incoming>flow_check_prepare</bpmn:incoming>\n      <bpmn:outgoing>flow_prepare",
    )
    xml = xml.replace(
        "<bpmn:flowNodeRef>prepare_quote</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>check_stock</bpmn:flowNodeRef>\n"
        "        <bpmn:flowNodeRef>prepare_quote</bpmn:flowNodeRef>",
    )
    assert xml.count("check_stock") >= 4, "the shipped diagram changed; update this helper"
    return xml


def files(bpmn_xml: str | None = None) -> list[UploadedFile]:
    uploads = [UploadedFile(BPMN, (bpmn_xml or version_1_xml()).encode())]
    return uploads + [UploadedFile(name, (FOLDER / name).read_bytes()) for name in FORMS]


def deploy_version(session: Session, bpmn_xml: str | None = None, user=None):
    deployment = deploy_files(session, files(bpmn_xml), user, LIMIT)
    session.flush()
    return deployment.definitions[0]
