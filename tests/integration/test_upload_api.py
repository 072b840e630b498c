"""Uploads: refusals a designer can act on (422 with file/line/element), never a 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bpmn import linear_process, script_task, user_task

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "miwg"  # vendored, CC BY 3.0


def details_of(response):
    body = response.get_json()
    assert "error" in body, body
    return body["error"].get("details")


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("not.bpmn", b"this is not xml", "line"),
        (
            "bomb.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>&lol2;"
            b"</bpmn:definitions>",
            "DOCTYPE",
        ),
        (
            "xxe.bpmn",
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>&xxe;"
            b"</bpmn:definitions>",
            "DOCTYPE",
        ),
        ("wrongns.bpmn", b'<definitions xmlns="http://example.com/not-bpmn"/>', "namespace"),
    ],
)
def test_hostile_or_broken_xml_is_refused_with_422(designer, name, content, expect):
    response = designer.upload((name, content))
    assert response.status_code == 422, response.get_json()
    details = details_of(response)
    assert details and all(d["file"] == name for d in details)
    text = " ".join(str(d["message"]) for d in details)
    if expect == "line":
        assert any(d["line"] for d in details)
    else:
        assert expect.lower() in text.lower()


def test_no_executable_process_is_refused(designer):
    bpmn = linear_process("draft", user_task("t", "T")).replace(
        b'isExecutable="true"', b'isExecutable="false"'
    )
    response = designer.upload(("draft.bpmn", bpmn))
    assert response.status_code == 422
    assert "executable" in details_of(response)[0]["message"].lower()


def test_script_syntax_error_names_element_and_line(designer):
    bpmn = linear_process("broken_script", script_task("calc", "x = 1\ny = (2 +\n"))
    response = designer.upload(("broken_script.bpmn", bpmn))
    assert response.status_code == 422
    (detail,) = [d for d in details_of(response) if d["element_id"] == "calc"]
    assert detail["file"] == "broken_script.bpmn" and detail["line"]


def test_script_with_import_is_refused_at_upload(designer):
    bpmn = linear_process("sneaky", script_task("calc", "import os\nos.system('id')"))
    response = designer.upload(("sneaky.bpmn", bpmn))
    assert response.status_code == 422
    assert any(d["element_id"] == "calc" for d in details_of(response))


def test_missing_form_is_refused(designer):
    bpmn = linear_process("needs_form", user_task("t", "T", "no_such_form"))
    response = designer.upload(("needs_form.bpmn", bpmn))
    assert response.status_code == 422
    messages = " ".join(d["message"] for d in details_of(response))
    assert "no_such_form" in messages


def test_upload_without_files_or_with_odd_names(designer):
    empty = designer.client.post(
        "/api/v1/process-definitions",
        data={},
        headers={"Authorization": f"Bearer {designer.token}"},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400
    odd = designer.upload(("notes.txt", b"hello"))
    assert odd.status_code in (400, 422)
    assert "error" in odd.get_json()


def test_oversized_upload_is_413(designer, app):
    limit = app.extensions["weft"].settings.upload_max_bytes
    response = designer.upload(("big.bpmn", b"<a>" + b" " * (limit + 10) + b"</a>"))
    assert response.status_code == 413


def corpus_files():
    assert CORPUS.is_dir(), f"MIWG corpus missing at {CORPUS}"
    return sorted(CORPUS.glob("*.bpmn"))


@pytest.mark.slow
def test_miwg_corpus_gets_honest_answers(designer):
    outcomes = {}
    for path in corpus_files():
        response = designer.upload(path)
        assert response.status_code in (200, 201, 422), (path.name, response.status_code)
        body = response.get_json()
        if response.status_code == 422:
            details = body["error"]["details"]
            assert details and all(d["message"] and d["file"] == path.name for d in details), body
            outcomes[path.name] = "refused"
            continue
        key = body["key"]
        started = designer.post("/api/v1/process-instances", json={"process_key": key})
        assert started.status_code == 201, (path.name, started.get_json())
        outcomes[path.name] = started.get_json()["status"]
    assert len(outcomes) == 21
    # C.9.1 runs once its bare ISO timers are accepted; C.1.0 parses in Spiff alone, but its
    # camunda:formKey/assignee would be silently ignored, so Weft refuses it and says why.
    assert outcomes["C.9.1.bpmn"] == "waiting"  # on its R6/P1D reminder timer
    refusal = designer.upload(CORPUS / "C.1.0.bpmn").get_json()["error"]["details"]
    assert any(
        d["element_id"] == "approveInvoice" and "camunda:formKey" in d["message"] for d in refusal
    )
