"""Deploy the shipped `processes/` folder on `weft db upgrade`.

A key not deployed yet gets version 1. A key whose shipped files changed since they were last
deployed (a new release of Weft) gets the next version — its BPMN/DMN files, or a task form
of its folder that it uses (a version pins its forms), which becomes current, so new
instances follow the new release while running ones stay on the version they started on. A
designer's own version is never replaced: when the current version of a key was uploaded by a
person, the shipped change is left out and logged (the designer merges it by uploading). The
same holds for a decision file (.dmn) and a task form (.json): when its latest version was
uploaded by a person, the shipped file is not stored over it, or the next save of a process
using it would silently take the shipped one instead of the designer's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid
from engine.definitions import Deployment, content_hash, store_bundle, validate_files
from engine.models import DecisionFile, FormDefinition, ProcessDefinition
from engine.parsing import ParsedProcess, UploadedFile
from forms.definitions import load_form_file

SHIPPED_SUFFIXES = (".bpmn", ".dmn", ".json")
log = logging.getLogger(__name__)


def shipped_bundles(processes_dir: Path) -> dict[str, list[UploadedFile]]:
    """One bundle per folder (sales/, service/, approval/, ...), files in name order."""
    bundles: dict[str, list[UploadedFile]] = {}
    for path in sorted(processes_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in SHIPPED_SUFFIXES:
            folder = str(path.parent.relative_to(processes_dir))
            bundles.setdefault(folder, []).append(UploadedFile(path.name, path.read_bytes()))
    return bundles


def deploy_shipped(session: Session, processes_dir: Path, max_file_bytes: int) -> list[Deployment]:
    results = []
    for bundle in shipped_bundles(processes_dir).values():
        files = [file for file in bundle if not _designers_copy_is_latest(session, file)]
        if not files:
            continue
        parsed = validate_files(session, files, max_file_bytes)
        names = {file.filename for file in files}
        skip = {
            process.key
            for process in parsed.processes
            if not _to_deploy(session, process, names, parsed.forms)
        }
        deployment = store_bundle(session, parsed, None, max_file_bytes, skip_keys=skip)
        if deployment.created:
            results.append(deployment)
    return results


def _designers_copy_is_latest(session: Session, file: UploadedFile) -> bool:
    """Whether the latest stored version of this decision file or task form was uploaded by a
    person and differs from the shipped text: then the designer's stays the one in use (the
    next deploy of a process pins the latest forms and calls the latest decisions)."""
    name = file.filename.lower()
    if name.endswith(".dmn"):
        latest = session.scalars(
            select(DecisionFile)
            .where(DecisionFile.filename == file.filename)
            .order_by(DecisionFile.version.desc())
            .limit(1)
        ).first()
        text = file.content.decode("utf-8", "replace").removeprefix("\ufeff")
        differs = latest is not None and latest.xml != text
    elif name.endswith(".json"):
        try:
            shipped = load_form_file(file.content, file.filename)
        except Invalid:
            return False  # the upload's own validation reports it
        latest = session.scalars(
            select(FormDefinition)
            .where(FormDefinition.key == shipped["key"])
            .order_by(FormDefinition.version.desc())
            .limit(1)
        ).first()
        differs = latest is not None and latest.content_hash != content_hash(shipped)
    else:
        return False
    if latest is None or latest.deployed_by_id is None or not differs:
        return False
    log.info(
        "shipped file %s changed, but version %s uploaded by a designer is the latest: "
        "left as it is (upload the shipped file to take it)",
        file.filename,
        latest.version,
    )
    return True


def _to_deploy(
    session: Session, process: ParsedProcess, bundle_names: set[str], bundle_forms: dict
) -> bool:
    """Whether the shipped files of `process` should become its next (or first) version."""
    versions = list(
        session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == process.key))
    )
    if not versions:
        return True
    # Only the files of this folder count: a called process or a decision deployed from
    # elsewhere (perhaps a designer's newer version) is not a change of this release.
    shipped = {n: text for n, text in process.source_files.items() if n in bundle_names}
    forms = {key: form for key, form in bundle_forms.items() if key in process.form_keys}
    for version in versions:
        stored = version.source_files or {}
        pinned = version.forms or {}
        if all(stored.get(name) == text for name, text in shipped.items()) and all(
            pinned.get(key) == form for key, form in forms.items()
        ):
            return False  # this release's files are deployed (current or rolled back from)
    current = next((v for v in versions if v.is_current), None)
    if current is not None and current.deployed_by_id is not None:
        log.info(
            "shipped process %s changed, but version %s uploaded by a designer is current: "
            "left as it is (upload the shipped file to take it)",
            process.key,
            current.version,
        )
        return False
    return True
