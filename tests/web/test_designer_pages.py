"""The designer console through real HTTP: who may use it, upload with a validation report,
the modeler's check and deploy, making a version current, form and decision-table editors,
version diffs, bulk instance operations and moving instances to a newer version."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from engine.instances import start_instance
from engine.models import DecisionFile, ProcessDefinition, ProcessInstance
from tests.support import designer as quote
from tests.web.conftest import PROCESSES

BROKEN = quote.version_1_xml().replace('targetRef="prepare_quote"', 'targetRef="nowhere"', 1)


def versions(session) -> list[int]:
    session.expire_all()
    return list(
        session.scalars(
            select(ProcessDefinition.version)
            .where(ProcessDefinition.key == quote.KEY)
            .order_by(ProcessDefinition.version)
        )
    )


def current(session) -> int:
    session.expire_all()
    return session.scalar(
        select(ProcessDefinition.version).where(
            ProcessDefinition.key == quote.KEY, ProcessDefinition.is_current
        )
    )


def upload(web, action: str, bpmn: str):
    parts = [(io.BytesIO(bpmn.encode()), quote.BPMN)]
    parts += [(io.BytesIO((quote.FOLDER / n).read_bytes()), n) for n in quote.FORMS]
    return web.post("/designer/upload", {"action": action, "file": parts})


def modeler(web, action: str, xml: str, base_version: int = 1):
    return web.client.post(
        f"/designer/processes/{quote.KEY}/edit",
        json={"action": action, "xml": xml, "base_version": base_version},
        headers={"X-CSRF-Token": web.token},
    )


@pytest.fixture
def designer_web(signed_in):
    return signed_in("process_designer", lang="en")


def test_who_may_open_and_change_the_designer_console(signed_in, session):
    quote.deploy_version(session)
    session.commit()
    sales = signed_in("salesperson")
    assert sales.get("/designer").status_code == 403
    assert "/designer" not in sales.get("/inbox").text  # not offered in the header either

    admin = signed_in("admin")
    assert admin.get("/designer").status_code == 200  # administrators see and operate
    # ... but an admin without the designer role cannot deploy or edit a process.
    assert admin.get("/designer/upload").status_code == 403
    assert upload(admin, "deploy", quote.version_2_xml()).status_code == 403
    assert modeler(admin, "deploy", quote.version_2_xml()).status_code == 403
    made = admin.post(f"/designer/processes/{quote.KEY}/current", {"version": "1"})
    assert made.status_code == 403
    assert versions(session) == [1]

    both = signed_in("admin", "process_designer")
    assert both.get("/designer/upload").status_code == 200


def test_catalogue_shows_versions_current_instances_and_deployer(designer_web, session):
    quote.deploy_version(session, user=designer_web.user)
    start_instance(session, designer_web.user, quote.KEY)
    quote.deploy_version(session, quote.version_2_xml(), user=designer_web.user)
    session.commit()
    page = designer_web.get("/designer")
    assert page.status_code == 200
    text = page.text
    assert "Quote discount approval" in text and 'data-testid="current-version">v2' in text
    assert designer_web.user.username in text
    detail = designer_web.get(f"/designer/processes/{quote.KEY}")
    assert 'data-testid="version-1"' in detail.text and "Make current" in detail.text
    xml = designer_web.get(f"/designer/processes/{quote.KEY}/versions/2.bpmn")
    assert xml.mimetype == "application/xml" and "check_stock" in xml.text
    assert designer_web.get("/designer/processes/nothing").status_code == 404


def test_upload_check_reports_problems_and_deploys_nothing(designer_web, session):
    response = upload(designer_web, "check", BROKEN)
    assert response.status_code == 422
    assert 'data-testid="validation-report"' in response.text
    row = response.text.split('data-testid="problem"')[1].split("</tr>")[0]
    # file, line, element and message, as the API's 422 details give them
    assert quote.BPMN in row and ">29<" in row and "<code>start</code>" in row
    assert "not in the same process" in row
    assert versions(session) == []
    # Deploying the same broken files is refused with the same report.
    assert upload(designer_web, "deploy", BROKEN).status_code == 422
    assert versions(session) == []


def test_upload_check_then_deploy_then_roll_back(designer_web, session):
    checked = upload(designer_web, "check", quote.version_1_xml())
    assert checked.status_code == 200 and 'data-testid="validation-ok"' in checked.text
    assert "would be deployed as version 1" in checked.text
    assert versions(session) == []

    deployed = upload(designer_web, "deploy", quote.version_1_xml())
    assert deployed.status_code == 302 and versions(session) == [1]
    upload(designer_web, "deploy", quote.version_2_xml())
    assert current(session) == 2

    rolled = designer_web.post(f"/designer/processes/{quote.KEY}/current", {"version": "1"})
    assert rolled.status_code == 302 and current(session) == 1
    assert "Version 1 is now current" in designer_web.get(rolled.headers["Location"]).text


def test_modeler_checks_and_deploys_the_edited_diagram(designer_web, session):
    quote.deploy_version(session)
    session.commit()
    page = designer_web.get(f"/designer/processes/{quote.KEY}/edit?version=1")
    assert page.status_code == 200 and "bpmn-modeler.production.min.js" in page.text

    refused = modeler(designer_web, "check", BROKEN)
    assert refused.status_code == 422
    problems = refused.get_json()["problems"]
    assert problems and all({"message", "line", "element_id", "file"} <= set(p) for p in problems)

    checked = modeler(designer_web, "check", quote.version_2_xml())
    assert checked.status_code == 200 and checked.get_json()["processes"][0]["version"] == 2
    assert versions(session) == [1]

    deployed = modeler(designer_web, "deploy", quote.version_2_xml())
    assert deployed.status_code == 200 and deployed.get_json()["redirect"]
    assert versions(session) == [1, 2] and current(session) == 2
    bad = designer_web.client.post(
        f"/designer/processes/{quote.KEY}/edit",
        json={"action": "deploy"},
        headers={"X-CSRF-Token": designer_web.token},
    )
    assert bad.status_code == 400


def test_form_editor_changes_a_label_and_deploys_it_with_the_process(designer_web, session):
    quote.deploy_version(session)
    session.commit()
    url = f"/designer/processes/{quote.KEY}/forms/prepare_quote"
    page = designer_web.get(url)
    assert page.status_code == 200 and 'value="customer_name"' in page.text
    form = {
        "action": "deploy",
        "field-0-name": "customer_name",
        "field-0-type": "text",
        "field-0-label_zh": "客户全称",
        "field-0-label_en": "Customer full name",
        "field-0-required": "1",
        "field-0-choices": "",
        "field-1-name": "urgency",
        "field-1-type": "choice",
        "field-1-label_zh": "紧急程度",
        "field-1-label_en": "Urgency",
        "field-1-choices": "high | 高 | High\nlow | 低 | Low",
    }
    # A choice field without choices is reported, not deployed.
    broken = designer_web.post(url, {**form, "field-1-choices": ""})
    assert broken.status_code == 422 and 'data-testid="validation-report"' in broken.text
    assert versions(session) == [1]

    assert designer_web.post(url, form).status_code == 302
    assert versions(session) == [1, 2]
    session.expire_all()
    v2 = session.scalar(select(ProcessDefinition).where(ProcessDefinition.version == 2))
    fields = {f["name"]: f for f in v2.forms["prepare_quote"]["fields"]}
    assert list(fields) == ["customer_name", "urgency"]
    assert fields["customer_name"]["label"] == {"zh": "客户全称", "en": "Customer full name"}
    assert fields["customer_name"]["max_length"] == 200  # what the editor does not show is kept
    assert [c["value"] for c in fields["urgency"]["choices"]] == ["high", "low"]


def test_decision_table_editor_rewrites_the_rules(designer_web, session):
    from engine.definitions import UploadedFile, deploy_files

    folder = PROCESSES / "approval"
    names = [
        "approval.bpmn",
        "approval_levels.dmn",
        "approval_decision.json",
        "approval_revise.json",
    ]
    deploy_files(
        session, [UploadedFile(n, (folder / n).read_bytes()) for n in names], None, quote.LIMIT
    )
    session.commit()
    key = session.scalar(select(ProcessDefinition.key))
    listing = designer_web.get(f"/designer/processes/{key}/decisions")
    assert listing.status_code == 200 and "approval_levels.dmn" in listing.text
    edit_url = next(
        line.split('href="')[1].split('"')[0].replace("&amp;", "&")
        for line in listing.text.splitlines()
        if "/decisions/approval_levels.dmn/" in line
    )
    page = designer_web.get(edit_url)
    assert page.status_code == 200
    form = {
        name: value
        for name, value in _inputs(page.text)
        if name.startswith("rule-") and not name.endswith("-delete")
    }
    form["rule-0-delete"] = "1"
    bad = designer_web.post(edit_url, {**form, "action": "check", "rule-1-out-0": "((("})
    assert bad.status_code == 422 and 'data-testid="validation-report"' in bad.text
    before = session.scalar(select(func.count()).select_from(DecisionFile))
    assert designer_web.post(edit_url, {**form, "action": "deploy"}).status_code == 302
    session.expire_all()
    newest = session.scalar(select(DecisionFile).order_by(DecisionFile.id.desc()).limit(1))
    assert session.scalar(select(func.count()).select_from(DecisionFile)) == before + 1
    stored_rules = [k for k, v in form.items() if k.endswith("-id") and v]
    assert newest.xml.count("<rule ") == len(stored_rules) - 1  # the deleted one is gone
    assert (
        'id="rule_discount_auto"' not in newest.xml and 'id="rule_discount_manager"' in newest.xml
    )


def _inputs(html: str) -> list[tuple[str, str]]:
    """The editor's inputs as a browser would post them (values unescaped)."""
    pairs = re.findall(r'<input name="([^"]+)" value="([^"]*)"', html)
    pairs += re.findall(r'<input type="hidden" name="(rule-[^"]+)" value="([^"]*)"', html)
    return [(name, unescape(value)) for name, value in pairs]


def test_diff_page_lists_changes(designer_web, session):
    quote.deploy_version(session)
    quote.deploy_version(session, quote.version_2_xml())
    session.commit()
    page = designer_web.get(f"/designer/processes/{quote.KEY}/diff?from=1&to=2")
    assert page.status_code == 200
    added = page.text.split('data-testid="diff-added"')[1].split("</section>")[0]
    assert "check_stock" in added and "flow_check_prepare" in added
    # The same ids go to the diagram, where bpmn-js marks them.
    marked = unescape(page.text.split('data-testid="diff-new"')[1].split("></div>")[0])
    added_ids = json.loads(re.search(r"data-added='([^']*)'", marked).group(1))
    assert sorted(added_ids) == ["check_stock", "flow_check_prepare"]


def test_bulk_suspend_resume_cancel_and_refusals(designer_web, session, make_user):
    starter = make_user("salesperson")
    quote.deploy_version(session)
    first = start_instance(session, starter, quote.KEY, subject={"type": "customer", "id": 5})
    second = start_instance(session, starter, quote.KEY)
    session.commit()
    listing = designer_web.get(f"/designer/instances?process={quote.KEY}&customer=5")
    assert f'data-testid="instance-{first.id}"' in listing.text
    assert f'data-testid="instance-{second.id}"' not in listing.text

    ids = [str(first.id), str(second.id)]
    designer_web.post("/designer/instances/bulk", {"operation": "suspend", "instance": ids})
    session.expire_all()
    assert {session.get(ProcessInstance, i).status for i in (first.id, second.id)} == {"suspended"}
    designer_web.post("/designer/instances/bulk", {"operation": "resume", "instance": [ids[0]]})
    refused = designer_web.post(
        "/designer/instances/bulk", {"operation": "resume", "instance": ids}
    )
    # The first is not suspended any more: refused with a reason, the second still resumed.
    text = designer_web.get(refused.headers["Location"]).text
    assert f"Instance {first.id}" in text
    session.expire_all()
    assert session.get(ProcessInstance, second.id).status == "running"


def test_salesperson_cannot_run_bulk_operations(signed_in, session, make_user):
    starter = make_user("salesperson")
    quote.deploy_version(session)
    instance = start_instance(session, starter, quote.KEY)
    session.commit()
    sales = signed_in(user=starter)
    refused = sales.post(
        "/designer/instances/bulk", {"operation": "cancel", "instance": [str(instance.id)]}
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(ProcessInstance, instance.id).status == "running"


def test_migration_preview_and_move(designer_web, session, make_user):
    starter = make_user("salesperson")
    quote.deploy_version(session)
    waiting = start_instance(session, starter, quote.KEY)
    quote.deploy_version(session, quote.version_2_xml())
    session.commit()
    url = f"/designer/processes/{quote.KEY}/migrate"
    preview = designer_web.get(url)
    assert f'data-testid="migration-{waiting.id}"' in preview.text and "yes" in preview.text
    moved = designer_web.post(url, {"instance": [str(waiting.id)]})
    assert moved.status_code == 302
    session.expire_all()
    assert session.get(ProcessInstance, waiting.id).definition_version == 2
    assert "No instance runs an older version." in designer_web.get(url).text
