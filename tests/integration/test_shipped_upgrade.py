"""`weft db upgrade` and the shipped processes/ folder: a changed shipped file becomes the next
version of its process (running instances stay on theirs), an unchanged one changes nothing,
and a designer's own current version — or own decision table — is never replaced by a release.
The SLA table of issue 6 (clock-hour figures restated as working hours) is such a change."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import select

from engine.definitions import current_definition, deploy_files
from engine.models import DecisionFile, ProcessDefinition
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


# --- the SLA decision: clock-hour figures of old, working-hour figures now -----------------

OLD_SLA = {"urgent": 4, "high": 24, "normal": 72, "low": 168, "other": 72}
NEW_SLA = {"urgent": 4, "high": 9, "normal": 27, "low": 45, "other": 27}


def sla_dmn(figures: dict[str, int]) -> str:
    """The shipped service_sla.dmn with the given hours per rule (`rule_<name>_hours`)."""
    text = (PROCESSES / "service" / "service_sla.dmn").read_text(encoding="utf-8")
    for rule, hours in figures.items():
        shipped_hours = NEW_SLA[rule]
        entry = f'<outputEntry id="rule_{rule}_hours"><text>{{}}</text>'
        assert entry.format(shipped_hours) in text
        text = text.replace(entry.format(shipped_hours), entry.format(hours))
    return text


def sla_release(tmp_path: Path, name: str, figures: dict[str, int]) -> Path:
    root = release(tmp_path, name, (PROCESSES / "service" / "service.bpmn").read_text("utf-8"))
    (root / "service" / "service_sla.dmn").write_text(sla_dmn(figures), encoding="utf-8")
    return root


def sla_figures(dmn: str) -> dict[str, int]:
    return {
        rule: int(dmn.split(f'id="rule_{rule}_hours"><text>')[1].split("<")[0]) for rule in NEW_SLA
    }


def sla_of_version(session, version: int) -> dict[str, int]:
    """The SLA hours of the service process's `version`, from the decision it was built with."""
    source_files = session.scalar(
        select(ProcessDefinition.source_files).where(
            ProcessDefinition.key == "service", ProcessDefinition.version == version
        )
    )
    return sla_figures(source_files["service_sla.dmn"])


def decision_versions(session) -> list[tuple[int, int | None]]:
    rows = session.execute(
        select(DecisionFile.version, DecisionFile.deployed_by_id)
        .where(DecisionFile.filename == "service_sla.dmn")
        .order_by(DecisionFile.version)
    )
    return [tuple(row) for row in rows]


def test_the_working_hour_sla_figures_reach_an_installation_that_has_the_old_ones(
    session, tmp_path
):
    # An installation upgraded before issue 6 runs the clock-hour table (normal 72 h ...).
    deploy_shipped(session, sla_release(tmp_path, "older", OLD_SLA), LIMIT)
    assert versions(session) == [(1, True, None)]
    # This release changes only the decision: the service process gets its next version,
    # whose decision is the working-hours table; version 1 keeps the old one for its instances.
    newer = sla_release(tmp_path, "newer", NEW_SLA)  # the service folder as shipped now
    created = [d for r in deploy_shipped(session, newer, LIMIT) for d in r.created]
    assert [(d.key, d.version) for d in created] == [("service", 2)]
    assert versions(session) == [(1, False, None), (2, True, None)]
    assert sla_of_version(session, 1) == OLD_SLA
    assert sla_of_version(session, 2) == NEW_SLA
    assert decision_versions(session) == [(1, None), (2, None)]
    assert deploy_shipped(session, newer, LIMIT) == []


def test_a_designers_own_sla_table_outlives_the_release(session, tmp_path, make_user, caplog):
    deploy_shipped(session, sla_release(tmp_path, "older", OLD_SLA), LIMIT)
    designer = make_user("process_designer")
    own = {**OLD_SLA, "normal": 48}
    deploy_files(session, [UploadedFile("service_sla.dmn", sla_dmn(own).encode())], designer, LIMIT)
    assert versions(session) == [(1, False, None), (2, True, designer.id)]

    with caplog.at_level(logging.INFO, logger="engine.shipped"):
        assert deploy_shipped(session, sla_release(tmp_path, "newer", NEW_SLA), LIMIT) == []
    assert "service_sla.dmn changed, but version 2 uploaded by a designer" in caplog.text
    assert versions(session) == [(1, False, None), (2, True, designer.id)]
    # The release's table is not stored over the designer's: a later upload of the BPMN alone
    # still calls the designer's hours.
    assert decision_versions(session) == [(1, None), (2, designer.id)]
    renamed = service_bpmn(session).replace("售后服务 After-sales service", "售后服务（华东版）", 1)
    deploy_files(session, [UploadedFile("service.bpmn", renamed.encode())], designer, LIMIT)
    assert versions(session)[-1] == (3, True, designer.id)
    assert sla_of_version(session, 3) == own


def fix_form(title: str) -> bytes:
    text = (PROCESSES / "service" / "service_fix.json").read_text(encoding="utf-8")
    assert '"en": "Repair or replace"' in text
    return text.replace('"en": "Repair or replace"', f'"en": "{title}"').encode()


def fix_form_of_current_version(session) -> str:
    return current_definition(session, "service").forms["service_fix"]["title"]["en"]


def test_a_designers_own_form_outlives_the_release(session, tmp_path, make_user, caplog):
    deploy_shipped(session, release(tmp_path, "older", service_bpmn_text()), LIMIT)
    designer = make_user("process_designer")
    deploy_files(
        session,
        [
            UploadedFile("service.bpmn", service_bpmn_text().encode()),
            UploadedFile("service_fix.json", fix_form("Repair (our wording)")),
        ],
        designer,
        LIMIT,
    )
    assert fix_form_of_current_version(session) == "Repair (our wording)"

    newer = release(tmp_path, "newer", service_bpmn_text())
    (newer / "service" / "service_fix.json").write_bytes(fix_form("Repair or replace, v2"))
    with caplog.at_level(logging.INFO, logger="engine.shipped"):
        deploy_shipped(session, newer, LIMIT)
    assert "service_fix.json changed, but version 2 uploaded by a designer" in caplog.text
    # The designer's next save of the diagram alone keeps the designer's form.
    renamed = service_bpmn(session).replace("售后服务 After-sales service", "售后服务（华东版）", 1)
    deploy_files(session, [UploadedFile("service.bpmn", renamed.encode())], designer, LIMIT)
    assert fix_form_of_current_version(session) == "Repair (our wording)"


def service_bpmn_text() -> str:
    return (PROCESSES / "service" / "service.bpmn").read_text(encoding="utf-8")
