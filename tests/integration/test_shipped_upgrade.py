"""`weft db upgrade` and the shipped processes/ folder: a changed shipped file becomes the next
version of its process (running instances stay on theirs), an unchanged one changes nothing,
and a designer's own current version is never replaced by a release."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import select

from engine.definitions import current_definition, deploy_files
from engine.models import ProcessDefinition
from engine.parsing import UploadedFile
from engine.shipped import deploy_shipped
from tests.conftest import PROCESSES

LIMIT = 5_000_000
NEW_REOPEN = "add_working_hours(now(), sla_hours)"
OLD_REOPEN = "(datetime.fromisoformat(now()) + timedelta(hours=sla_hours)).isoformat()"


def release(tmp_path: Path, name: str, service_bpmn: str) -> Path:
    """A processes/ folder holding the service bundle with the given service.bpmn."""
    root = tmp_path / name
    shutil.copytree(PROCESSES / "service", root / "service")
    (root / "service" / "service.bpmn").write_text(service_bpmn, encoding="utf-8")
    return root


def versions(session) -> list[tuple[int, bool, int | None]]:
    rows = session.execute(
        select(
            ProcessDefinition.version,
            ProcessDefinition.is_current,
            ProcessDefinition.deployed_by_id,
        )
        .where(ProcessDefinition.key == "service")
        .order_by(ProcessDefinition.version)
    )
    return [tuple(row) for row in rows]


def service_bpmn(session) -> str:
    definition = current_definition(session, "service")
    return definition.source_files[definition.bpmn_filename]


def test_a_changed_shipped_file_becomes_the_next_version_once(session, tmp_path):
    shipped = (PROCESSES / "service" / "service.bpmn").read_text(encoding="utf-8")
    assert NEW_REOPEN in shipped
    older = release(tmp_path, "older", shipped.replace(NEW_REOPEN, OLD_REOPEN))
    newer = release(tmp_path, "newer", shipped)

    assert [d.key for r in deploy_shipped(session, older, LIMIT) for d in r.created] == ["service"]
    assert versions(session) == [(1, True, None)]
    assert OLD_REOPEN in service_bpmn(session)

    # The new release: the changed file is version 2 and current; version 1 stays for the
    # instances that started on it.
    created = [d for r in deploy_shipped(session, newer, LIMIT) for d in r.created]
    assert [(d.key, d.version) for d in created] == [("service", 2)]
    assert versions(session) == [(1, False, None), (2, True, None)]
    assert NEW_REOPEN in service_bpmn(session)
    # Upgrading again, or with the older release's folder, deploys nothing new.
    assert deploy_shipped(session, newer, LIMIT) == []
    assert deploy_shipped(session, older, LIMIT) == []
    assert versions(session) == [(1, False, None), (2, True, None)]


def test_a_designers_current_version_is_left_alone(session, tmp_path, make_user, caplog):
    shipped = (PROCESSES / "service" / "service.bpmn").read_text(encoding="utf-8")
    deploy_shipped(session, release(tmp_path, "first", shipped), LIMIT)
    designer = make_user("process_designer")
    own = shipped.replace("售后服务 After-sales service", "售后服务（华东版）", 1)
    deploy_files(session, [UploadedFile("service.bpmn", own.encode())], designer, LIMIT)
    assert versions(session) == [(1, False, None), (2, True, designer.id)]

    changed = shipped.replace(NEW_REOPEN, "add_working_hours(now(), sla_hours + 1)")
    with caplog.at_level(logging.INFO, logger="engine.shipped"):
        assert deploy_shipped(session, release(tmp_path, "second", changed), LIMIT) == []
    assert versions(session) == [(1, False, None), (2, True, designer.id)]
    assert "version 2 uploaded by a designer is current" in caplog.text
