"""The 21 BPMN MIWG reference models: each is deployed or refused for honest reasons, never crashes.

The corpus README measures SpiffWorkflow alone: C.1.0 and C.9.1 give a spec. Weft deploys
C.9.1 (thanks to bare ISO timers) but refuses C.1.0: its executable process routes on JUEL
conditions (`${approved}`) and sets forms, assignees and a Java delegate through camunda:
attributes, none of which would run; deploying it would only move the failure to run time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import Invalid
from engine.parsing import UploadedFile, parse_bundle

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "miwg"  # vendored, CC BY 3.0

NOT_EXECUTABLE = "No executable process: set isExecutable=true"
DATA_STORES = "Data stores are not supported"
# file -> deployed process keys, or the reasons every refusal of it must give.
EXPECTED: dict[str, list[str] | tuple[str, ...]] = {
    "A.1.0.bpmn": (NOT_EXECUTABLE,),
    "A.2.0.bpmn": (NOT_EXECUTABLE,),
    "A.2.1.bpmn": (NOT_EXECUTABLE,),
    "A.3.0.bpmn": (NOT_EXECUTABLE,),
    "A.4.0.bpmn": (NOT_EXECUTABLE,),
    "A.4.1.bpmn": (NOT_EXECUTABLE,),
    "B.1.0.bpmn": (DATA_STORES, NOT_EXECUTABLE),
    "B.2.0.bpmn": (DATA_STORES, NOT_EXECUTABLE),
    "C.1.0.bpmn": ("JUEL", "camunda:formKey", "camunda:delegateExpression", "not a role key"),
    "C.1.1.bpmn": (DATA_STORES, "camunda:formKey", "declares XPath"),
    "C.2.0.bpmn": (NOT_EXECUTABLE,),
    "C.3.0.bpmn": ("Condition of flow 'Premium'", "declares XPath"),
    "C.4.0.bpmn": (DATA_STORES, NOT_EXECUTABLE),
    "C.5.0.bpmn": (DATA_STORES, NOT_EXECUTABLE),
    "C.6.0.bpmn": (NOT_EXECUTABLE,),
    "C.7.0.bpmn": (NOT_EXECUTABLE,),
    "C.8.0.bpmn": (NOT_EXECUTABLE,),
    "C.8.1.bpmn": ("expression language FEEL", "zeebe:taskDefinition", "zeebe:formDefinition"),
    "C.9.0.bpmn": ("FEEL (=...)", "zeebe:taskDefinition", "calls process 'ManualCheck'"),
    "C.9.1.bpmn": ["requestDocument_en"],
    "C.9.2.bpmn": ("FEEL (=...)", "zeebe:assignmentDefinition", "'requestDocument_en'"),
}


def test_the_corpus_is_present():
    assert CORPUS.is_dir(), f"the MIWG corpus is missing at {CORPUS}"
    assert sorted(p.name for p in CORPUS.glob("*.bpmn")) == sorted(EXPECTED)


def outcome(name: str) -> list[str] | list[dict]:
    """Deployed keys, or the details of the refusal; any other exception fails the test."""
    path = CORPUS / name
    try:
        bundle = parse_bundle([UploadedFile(name, path.read_bytes())])
    except Invalid as exc:
        return exc.details
    return [process.key for process in bundle.processes]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_model_is_deployed_or_refused_honestly(name):
    result = outcome(name)
    expected = EXPECTED[name]

    if isinstance(expected, list):
        assert result == expected
        return
    assert result and all(isinstance(detail, dict) for detail in result), "must be refused"
    for detail in result:
        print(f"{name}:{detail['line']} [{detail['element_id']}] {detail['message']}")
        assert detail["message"].strip()
        assert detail["file"] == name
        assert detail["element_id"], "every corpus refusal is about an element"
    messages = "\n".join(detail["message"] for detail in result)
    for reason in expected:
        assert reason in messages


def test_c_9_1_runs_its_iso_timers_as_quoted_python_strings():
    [process] = parse_bundle(
        [UploadedFile("C.9.1.bpmn", (CORPUS / "C.9.1.bpmn").read_bytes())]
    ).processes

    timers = {
        name: process.spec.task_specs[name].event_definition.expression
        for name in ("BoundaryEvent_1", "BoundaryEvent_2")
    }
    assert timers == {"BoundaryEvent_1": '"R6/P1D"', "BoundaryEvent_2": '"P7D"'}


def test_the_c_9_call_chain_resolves_once_its_callees_are_deployed():
    library = {"C.9.1.bpmn": (CORPUS / "C.9.1.bpmn").read_text(encoding="utf-8")}

    with pytest.raises(Invalid) as info:
        parse_bundle(
            [UploadedFile("C.9.2.bpmn", (CORPUS / "C.9.2.bpmn").read_bytes())],
            library_bpmn=library,
        )

    messages = [detail["message"] for detail in info.value.details]
    assert not any("calls process" in message for message in messages)
    assert any("zeebe:assignmentDefinition" in message for message in messages)
