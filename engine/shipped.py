"""Deploy the shipped `processes/` folder: version 1 of every key that is not deployed yet."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import Deployment, deploy_files
from engine.models import ProcessDefinition
from engine.parsing import UploadedFile

SHIPPED_SUFFIXES = (".bpmn", ".dmn", ".json")


def shipped_bundles(processes_dir: Path) -> dict[str, list[UploadedFile]]:
    """One bundle per folder (sales/, service/, approval/, ...), files in name order."""
    bundles: dict[str, list[UploadedFile]] = {}
    for path in sorted(processes_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in SHIPPED_SUFFIXES:
            folder = str(path.parent.relative_to(processes_dir))
            bundles.setdefault(folder, []).append(UploadedFile(path.name, path.read_bytes()))
    return bundles


def deploy_shipped(session: Session, processes_dir: Path, max_file_bytes: int) -> list[Deployment]:
    deployed_keys = set(session.scalars(select(ProcessDefinition.key).distinct()))
    results = []
    for files in shipped_bundles(processes_dir).values():
        deployment = deploy_files(session, files, None, max_file_bytes, skip_keys=deployed_keys)
        if deployment.created:
            results.append(deployment)
        deployed_keys.update(d.key for d in deployment.definitions)
    return results
