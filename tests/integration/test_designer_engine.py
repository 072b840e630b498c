"""Engine support for the designer console: dry-run validation, the catalogue, the version
diff, instance search and moving running instances to a newer version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select

from core import clock
from core.errors import Conflict, Invalid
from engine.catalogue import process_catalogue
from engine.definitions import deploy_files, validate_files
from engine.instance_migration import migrate_instance, preview_migration
from engine.instance_search import InstanceFilter, find_instances
from engine.instances import cancel_instance, start_instance
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from engine.parsing import UploadedFile
from engine.tasks import complete_task
from engine.version_diff import diff_bpmn
from tests.conftest import PROCESSES
from tests.support import designer as quote

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
BROKEN = quote.version_1_xml().replace('targetRef="prepare_quote"', 'targetRef="nowhere"', 1)


def open_step(session, instance) -> str:
    return session.scalar(
        select(HumanTask.bpmn_id).where(
            HumanTask.instance_id == instance.id, HumanTask.status == "open"
        )
    )


def test_validate_files_stores_nothing_and_reports_what_deploy_would(session):
    bundle = validate_files(session, quote.files(), quote.LIMIT)
    assert [p.key for p in bundle.processes] == [quote.KEY]
    assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0

    with pytest.raises(Invalid) as checked:
        validate_files(session, quote.files(BROKEN), quote.LIMIT)
    with pytest.raises(Invalid) as deployed:
        deploy_files(session, quote.files(BROKEN), None, quote.LIMIT)
    assert checked.value.details == deployed.value.details
    assert any(d["element_id"] and d["line"] for d in checked.value.details)


def test_validate_files_knows_the_deployed_forms(session):
    quote.deploy_version(session)
    # The BPMN alone: its forms are deployed already, so it is valid on its own.
    only_bpmn = [UploadedFile(quote.BPMN, quote.version_2_xml().encode())]
    assert validate_files(session, only_bpmn, quote.LIMIT).processes[0].key == quote.KEY


def test_catalogue_lists_versions_with_instances_deployer_and_current(session, make_user):
    designer = make_user("process_designer")
    starter = make_user("salesperson")
    v1 = quote.deploy_version(session, user=designer)
    running = start_instance(session, starter, quote.KEY)
    finished = start_instance(session, starter, quote.KEY)
    cancel_instance(session, starter, finished.id)
    v2 = quote.deploy_version(session, quote.version_2_xml(), user=designer)
    start_instance(session, starter, quote.KEY)

    [entry] = process_catalogue(session)
    assert entry.key == quote.KEY and entry.current_version == 2
    by_version = {v.version: v for v in entry.versions}
    assert [v.version for v in entry.versions] == [2, 1]
    assert (by_version[1].active_instances, by_version[1].finished_instances) == (1, 1)
    assert (by_version[2].active_instances, by_version[2].finished_instances) == (1, 0)
    assert by_version[2].is_current and not by_version[1].is_current
    assert by_version[1].deployed_by == designer.username
    assert v1.id != v2.id and running.definition_version == 1


def test_diff_names_added_and_changed_elements_and_ignores_layout():
    changes = diff_bpmn(quote.version_1_xml(), quote.version_2_xml())
    assert {c.element_id for c in changes.added} == {"check_stock", "flow_check_prepare"}
    assert {"flow_start_prepare", "prepare_quote"} <= {c.element_id for c in changes.changed}
    assert changes.removed == []
    back = diff_bpmn(quote.version_2_xml(), quote.version_1_xml())
    assert {c.element_id for c in back.removed} == {"check_stock", "flow_check_prepare"}

    moved = quote.version_1_xml().replace('x="', 'x="1', 1)  # a shape moved on the canvas
    assert diff_bpmn(quote.version_1_xml(), moved).is_empty


def test_diff_ignores_what_a_modeler_rewrites_when_it_saves():
    """bpmn-js re-appends the boundary events and lane references of shapes it moved and leaves
    attributes at their BPMN default out: the same process, nothing changed."""
    shipped = (PROCESSES / "sales" / "sales.bpmn").read_bytes()
    root = etree.fromstring(shipped)
    process = root.find("bpmn:process", NS)
    events = process.findall("bpmn:boundaryEvent", NS)
    assert {e.get("cancelActivity") for e in events} == {"true"}
    for event in events:
        del event.attrib["cancelActivity"]
        process.append(event)
    for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in reversed(lane.findall("bpmn:flowNodeRef", NS)):
            lane.append(ref)
    resaved = etree.tostring(root, encoding="unicode")
    assert diff_bpmn(shipped.decode(), resaved).is_empty

    # What does change the process still shows: a non-interrupting timer, a new time.
    changed = resaved.replace(
        'id="reminder_due"', 'id="reminder_due" cancelActivity="false"'
    ).replace(">overdue_at<", ">due_at<")
    assert {c.element_id for c in diff_bpmn(shipped.decode(), changed).changed} == {
        "reminder_due",
        "overdue_timer_definition",
    }


def test_find_instances_by_process_version_status_customer_and_date(session, make_user):
    starter = make_user("salesperson")
    quote.deploy_version(session)
    first = start_instance(session, starter, quote.KEY, subject={"type": "customer", "id": 7})
    second = start_instance(session, starter, quote.KEY)
    cancel_instance(session, starter, second.id)

    def ids(**criteria):
        rows, total = find_instances(session, InstanceFilter(**criteria))
        assert total == len(rows)
        return {row.id for row, _incidents in rows}

    assert ids(process_key=quote.KEY) == {first.id, second.id}
    assert ids(status="cancelled") == {second.id}
    assert ids(customer_id=7) == {first.id}
    assert ids(version=2) == set()
    assert ids(started_from=clock.now() + timedelta(days=1)) == set()
    assert ids(started_before=clock.now() + timedelta(days=1)) == {first.id, second.id}


def test_migration_moves_instances_that_have_not_passed_a_changed_spot(session, make_user):
    """v1 -> v2 adds a step before 'prepare quote': an instance waiting in 'prepare quote'
    keeps its place; the preview says which can move."""
    designer = make_user("process_designer")
    starter = make_user("salesperson")
    quote.deploy_version(session)
    waiting = start_instance(session, starter, quote.KEY)
    target = quote.deploy_version(session, quote.version_2_xml())

    target, checks = preview_migration(session, quote.KEY)
    assert [(c.instance_id, c.can_move) for c in checks] == [(waiting.id, True)]

    migrate_instance(session, designer, waiting.id, target)
    row = session.get(ProcessInstance, waiting.id)
    assert (row.definition_id, row.definition_version) == (target.id, 2)
    assert open_step(session, row) == "prepare_quote"
    task_id = session.scalar(
        select(HumanTask.id).where(HumanTask.instance_id == row.id, HumanTask.status == "open")
    )
    complete_task(
        session,
        starter,
        task_id,
        {"customer_name": "锦程", "product": "面料", "list_price": "100", "quoted_price": "100"},
    )
    assert session.get(ProcessInstance, waiting.id).status == "completed"
    assert preview_migration(session, quote.KEY)[1] == []


def test_migration_refuses_an_instance_whose_reached_step_is_gone(session, make_user):
    designer = make_user("process_designer")
    starter = make_user("salesperson")
    quote.deploy_version(session, quote.version_2_xml())
    in_new_step = start_instance(session, starter, quote.KEY)
    assert open_step(session, in_new_step) == "check_stock"
    target = quote.deploy_version(session, quote.version_1_xml())  # v2: the step removed again

    _target, [check] = preview_migration(session, quote.KEY)
    assert not check.can_move and "Check stock" in check.reason
    with pytest.raises(Conflict):
        migrate_instance(session, designer, in_new_step.id, target)
    assert session.get(ProcessInstance, in_new_step.id).definition_version == 1
