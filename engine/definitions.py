"""Deploying and versioning definitions: every upload of a process id is its next version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, defer

from core.errors import NotFound
from crm_domain.users import User
from engine.models import DecisionFile, FormDefinition, ProcessDefinition
from engine.parsing import ParsedBundle, ParsedProcess, UploadedFile, parse_bundle
from engine.serialization import specs_to_dict


@dataclass
class Deployment:
    """What one upload changed. `created` lists definitions that are new versions."""

    definitions: list[ProcessDefinition] = field(default_factory=list)
    created: list[ProcessDefinition] = field(default_factory=list)
    forms: list[FormDefinition] = field(default_factory=list)
    decisions: list[DecisionFile] = field(default_factory=list)


def content_hash(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_files(
    session: Session, files: list[UploadedFile], max_file_bytes: int
) -> ParsedBundle:
    """Check an upload exactly as `deploy_files` would, and store nothing (a dry run).

    Raises what `parse_bundle` raises (BadRequest, PayloadTooLarge, Invalid with the same
    `{message, line, element_id, file}` details), so a designer sees the report first.
    """
    return parse_bundle(
        files,
        library_bpmn=_library_bpmn(session),
        library_dmn=_latest_dmn(session),
        known_form_keys=set(_latest_forms(session)),
        max_file_bytes=max_file_bytes,
    )


def deploy_files(
    session: Session,
    files: list[UploadedFile],
    user: User | None,
    max_file_bytes: int,
    skip_keys: set[str] | None = None,
) -> Deployment:
    """Validate and store an upload. Keys in `skip_keys` are left as they are."""
    bundle = validate_files(session, files, max_file_bytes)  # the very checks a dry run makes
    return store_bundle(session, bundle, user, max_file_bytes, skip_keys)


def store_bundle(
    session: Session,
    bundle: ParsedBundle,
    user: User | None,
    max_file_bytes: int,
    skip_keys: set[str] | None = None,
) -> Deployment:
    """Store an upload `validate_files` has just checked in this transaction."""
    deployment = Deployment()
    for key, definition in bundle.forms.items():
        form, is_new = _store_form(session, key, definition, user)
        if is_new:
            deployment.forms.append(form)
    for filename, xml in bundle.dmn_files.items():
        dmn, is_new = _store_dmn(session, filename, xml, bundle.decision_ids[filename], user)
        if is_new:
            deployment.decisions.append(dmn)
    stored_forms = _latest_forms(session)
    for parsed in bundle.processes:
        if skip_keys and parsed.key in skip_keys:
            continue
        definition, is_new = _store_process(session, parsed, stored_forms, user)
        deployment.definitions.append(definition)
        if is_new:
            deployment.created.append(definition)
    session.flush()
    if deployment.decisions:
        keep = {p.key for p in bundle.processes} | set(skip_keys or ())
        _redeploy_decision_users(session, deployment, keep, user, max_file_bytes)
    return deployment


def _redeploy_decision_users(
    session: Session,
    deployment: Deployment,
    keep: set[str],
    user: User | None,
    max_file_bytes: int,
) -> None:
    """A new DMN version: the current processes that run its decisions get a new version too.

    A version's decision tables are part of its stored spec, so running instances finish on
    the rules they started with, and new instances start on the new version with the new rules.
    A process the new table breaks refuses the whole upload (422).
    """
    changed = {d.filename for d in deployment.decisions}
    changed_ids = {i for d in deployment.decisions for i in d.decision_ids}
    for definition in session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.is_current)
        .order_by(ProcessDefinition.key)
    ).all():
        if definition.key in keep or not _runs_decisions(definition, changed, changed_ids):
            continue
        files = [
            UploadedFile(name, text.encode())
            for name, text in definition.source_files.items()
            if not name.lower().endswith(".dmn")
        ]
        bundle = parse_bundle(
            files,
            library_bpmn=_library_bpmn(session),
            library_dmn=_latest_dmn(session),
            known_form_keys=set(_latest_forms(session)),
            max_file_bytes=max_file_bytes,
        )
        forms = _latest_forms(session)
        for parsed in bundle.processes:
            if parsed.key != definition.key:
                continue
            redeployed, is_new = _store_process(session, parsed, forms, user)
            deployment.definitions.append(redeployed)
            if is_new:
                deployment.created.append(redeployed)
    session.flush()


def _runs_decisions(definition: ProcessDefinition, filenames: set[str], ids: set[str]) -> bool:
    for name, text in definition.source_files.items():
        if not name.lower().endswith(".dmn"):
            continue
        if name in filenames or any(f'id="{decision_id}"' in text for decision_id in ids):
            return True
    return False


def _store_process(
    session: Session, parsed: ParsedProcess, forms: dict[str, dict], user: User | None
) -> tuple[ProcessDefinition, bool]:
    pinned_forms = {key: forms[key] for key in sorted(parsed.form_keys) if key in forms}
    digest = content_hash({"files": parsed.source_files, "forms": pinned_forms})
    existing = session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.key == parsed.key, ProcessDefinition.content_hash == digest
        )
    )
    if existing is not None:
        # The same content again: no new version, but it is what the designer wants running.
        _make_current(session, existing)
        return existing, False
    latest = session.scalar(
        select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == parsed.key)
    )
    definition = ProcessDefinition(
        key=parsed.key,
        version=(latest or 0) + 1,
        name=parsed.name,
        content_hash=digest,
        source_files=parsed.source_files,
        bpmn_filename=parsed.bpmn_filename,
        spec=specs_to_dict(parsed.spec, parsed.subprocess_specs),
        forms=pinned_forms,
        start_messages=_start_messages(parsed.spec),
        deployed_by_id=user.id if user else None,
    )
    session.add(definition)
    session.flush()
    _make_current(session, definition)
    return definition, True


def _start_messages(spec) -> list[str]:
    names = set()
    for task_spec in getattr(spec, "bpmn_start_events", None) or []:
        event = getattr(task_spec, "event_definition", None)
        if isinstance(event, MessageEventDefinition) and event.name:
            names.add(event.name)
    return sorted(names)


def _make_current(session: Session, definition: ProcessDefinition) -> None:
    session.execute(
        update(ProcessDefinition)
        .where(ProcessDefinition.key == definition.key, ProcessDefinition.id != definition.id)
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    definition.is_current = True
    session.flush()
    session.expire_all()


def _store_form(
    session: Session, key: str, definition: dict, user: User | None
) -> tuple[FormDefinition, bool]:
    digest = content_hash(definition)
    latest = session.scalar(
        select(FormDefinition)
        .where(FormDefinition.key == key)
        .order_by(FormDefinition.version.desc())
        .limit(1)
    )
    if latest is not None and latest.content_hash == digest:
        return latest, False
    form = FormDefinition(
        key=key,
        version=(latest.version if latest else 0) + 1,
        content_hash=digest,
        definition=definition,
        deployed_by_id=user.id if user else None,
    )
    session.add(form)
    return form, True


def _store_dmn(
    session: Session, filename: str, xml: str, decision_ids: list[str], user: User | None
) -> tuple[DecisionFile, bool]:
    digest = hashlib.sha256(xml.encode()).hexdigest()
    latest = session.scalar(
        select(DecisionFile)
        .where(DecisionFile.filename == filename)
        .order_by(DecisionFile.version.desc())
        .limit(1)
    )
    if latest is not None and latest.content_hash == digest:
        return latest, False
    dmn = DecisionFile(
        filename=filename,
        version=(latest.version if latest else 0) + 1,
        decision_ids=decision_ids,
        content_hash=digest,
        xml=xml,
        deployed_by_id=user.id if user else None,
    )
    session.add(dmn)
    return dmn, True


def _latest_forms(session: Session) -> dict[str, dict]:
    rows = session.execute(
        select(FormDefinition.key, FormDefinition.definition).order_by(
            FormDefinition.key, FormDefinition.version
        )
    )
    return {key: definition for key, definition in rows}  # later versions overwrite earlier


def _latest_dmn(session: Session) -> dict[str, str]:
    rows = session.execute(
        select(DecisionFile.filename, DecisionFile.xml).order_by(
            DecisionFile.filename, DecisionFile.version
        )
    )
    return {filename: xml for filename, xml in rows}


def _library_bpmn(session: Session) -> dict[str, str]:
    """BPMN files of the current versions, so a new upload may call deployed processes."""
    library: dict[str, str] = {}
    for definition in session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.is_current)
    ):
        for filename, text in definition.source_files.items():
            if filename.lower().endswith(".dmn"):
                continue
            library.setdefault(filename, text)
    return library


# The JSON columns are left unloaded: starting an instance needs only the row's identity (its
# specs and forms come from caches keyed by id and content hash); touching one loads it.
_WITHOUT_JSON = (defer(ProcessDefinition.forms), defer(ProcessDefinition.start_messages))
_CURRENT_DEFINITION = (
    select(ProcessDefinition)
    .where(ProcessDefinition.key == bindparam("key"), ProcessDefinition.is_current)
    .options(*_WITHOUT_JSON)
)


def current_definition(session: Session, key: str) -> ProcessDefinition:
    definition = session.scalar(_CURRENT_DEFINITION, {"key": key})
    if definition is None:
        raise NotFound(f"No process '{key}' is deployed.")
    return definition


def get_version(session: Session, key: str, version: int) -> ProcessDefinition:
    definition = session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.key == key, ProcessDefinition.version == version
        )
    )
    if definition is None:
        raise NotFound(f"Process '{key}' has no version {version}.")
    return definition


def list_versions(session: Session, key: str) -> list[ProcessDefinition]:
    versions = session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
    ).all()
    if not versions:
        raise NotFound(f"No process '{key}' is deployed.")
    return list(versions)


def list_current(session: Session) -> list[tuple[ProcessDefinition, int]]:
    """The current version of each key, with the key's latest version number."""
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("latest"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    rows = session.execute(
        select(ProcessDefinition, latest.c.latest)
        .join(latest, latest.c.key == ProcessDefinition.key)
        .where(ProcessDefinition.is_current)
        .order_by(ProcessDefinition.key)
    )
    return [(definition, latest_version) for definition, latest_version in rows]


def set_current_version(session: Session, key: str, version: int) -> ProcessDefinition:
    definition = get_version(session, key, version)
    _make_current(session, definition)
    return definition
