"""Uploaded scripts are untrusted: attacks are refused at upload or end as incidents, fast."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.bpmn import linear_process, script_task

# Visible in the source: refused at upload with the element named.
REFUSED_AT_UPLOAD = {
    "import": "import os\nos.system('id')",
    "dunder_import": "__import__('os').system('id')",
    "subclasses_walk": "x = ().__class__.__base__.__subclasses__()",
    "private_attribute": "x = data._secret",
}

# Only visible when it runs: an incident on the instance, the server unharmed.
INCIDENTS_AT_RUN_TIME = {
    "open_file": "content = open('/etc/passwd').read()",
    "getattr_trick": "x = getattr((), '__cl' + 'ass__')",
    "format_attribute": "x = '{0.__class__}'.format(1)",
    "endless_loop": "while True:\n    pass",
    "huge_string": "x = 'x' * 10**10",
    "huge_int": "x = 10**10**8",
    "deep_recursion": "def f(n):\n    return f(n + 1)\nf(0)",
    "doubling_string": "x = 'a'\nwhile True:\n    x += x",
}


def _deploy(designer, key, script):
    return designer.upload((f"{key}.bpmn", linear_process(key, script_task("attack", script))))


@pytest.mark.parametrize("name", sorted(REFUSED_AT_UPLOAD))
def test_visible_attacks_are_refused_at_upload(designer, name):
    response = _deploy(designer, f"attack_{name}", REFUSED_AT_UPLOAD[name])
    assert response.status_code == 422, response.get_json()
    assert any(d["element_id"] == "attack" for d in response.get_json()["error"]["details"])


@pytest.mark.parametrize("name", sorted(INCIDENTS_AT_RUN_TIME))
def test_run_time_attacks_become_incidents_quickly(designer, name):
    key = f"attack_{name}"
    deployed = _deploy(designer, key, INCIDENTS_AT_RUN_TIME[name])
    if deployed.status_code == 422:
        # Refusing it even earlier is fine too, as long as the element is named.
        assert any(d["element_id"] == "attack" for d in deployed.get_json()["error"]["details"])
        return
    assert deployed.status_code == 201
    began = time.monotonic()
    started = designer.post("/api/v1/process-instances", json={"process_key": key, "data": {}})
    elapsed = time.monotonic() - began
    assert started.status_code == 201, started.get_json()
    assert elapsed < 5, f"{name} took {elapsed:.1f}s"  # bounded, not a hang
    detail = designer.get(f"/api/v1/process-instances/{started.get_json()['id']}").get_json()
    assert detail["status"] == "error"
    assert detail["incidents"][0]["message"]
    assert detail["incidents"][0]["task_name"] == "attack"


def test_server_keeps_answering_while_a_script_loops(designer, app):
    assert _deploy(designer, "looper", "while True:\n    pass").status_code == 201
    outcome = {}

    def run_loop() -> None:
        client = app.test_client()
        outcome["loop"] = client.post(
            "/api/v1/process-instances",
            json={"process_key": "looper"},
            headers={"Authorization": f"Bearer {designer.token}"},
        ).status_code

    looping = threading.Thread(target=run_loop)
    looping.start()
    time.sleep(0.2)
    other = app.test_client()
    began = time.monotonic()
    health = other.get("/healthz")
    answered_in = time.monotonic() - began
    looping.join(10)
    assert health.status_code == 200
    assert answered_in < 1.0  # answered while the loop was still running
    assert outcome["loop"] == 201  # the looping instance ended as an incident, not a crash
