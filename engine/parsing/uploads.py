"""The files of an upload: plain names, supported types and sizes, grouped by kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import BadRequest, PayloadTooLarge
from engine.parsing.problems import detail

BPMN_SUFFIXES = (".bpmn20.xml", ".bpmn")
DMN_SUFFIXES = (".dmn",)
FORM_SUFFIXES = (".json",)
MAX_FILENAME_LENGTH = 200


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content: bytes


def check_uploads(files: Any, max_file_bytes: int) -> dict[str, list[UploadedFile]]:
    """Files grouped by kind; BadRequest for names and types, PayloadTooLarge for sizes."""
    if not files or not isinstance(files, list | tuple):
        raise BadRequest("No files were uploaded: send one or more .bpmn, .dmn or .json files.")
    grouped: dict[str, list[UploadedFile]] = {"bpmn": [], "dmn": [], "form": []}
    refusals: list[dict] = []
    seen: set[str] = set()
    for upload in files:
        name = getattr(upload, "filename", None)
        reason = _filename_problem(name) or _content_problem(upload)
        if reason is None and name.casefold() in seen:
            reason = "This file name appears twice in the upload."
        if reason is not None:
            refusals.append(detail(reason, name if isinstance(name, str) else ""))
            continue
        seen.add(name.casefold())
        grouped[_kind_of(name)].append(upload)
    if refusals:
        raise BadRequest("Some files cannot be accepted.", details=refusals)
    for kind in grouped.values():
        for upload in kind:
            _check_size(upload, max_file_bytes)
    return grouped


def _filename_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return "A file has no name."
    if len(name) > MAX_FILENAME_LENGTH:
        return f"The file name is longer than {MAX_FILENAME_LENGTH} characters."
    if any(char in name for char in "/\\:") or any(ord(char) < 32 for char in name):
        return "The file name must be a plain name, without folders or control characters."
    if name.strip(".") == "" or name != name.strip():
        return "The file name is not valid."
    if _kind_of(name) is None:
        hint = " (rename a BPMN file to .bpmn or a DMN file to .dmn)"
        return (
            "Unsupported file type: upload .bpmn (or .bpmn20.xml) processes, .dmn decision "
            f"tables and .json forms{hint if name.lower().endswith('.xml') else ''}."
        )
    if any(name.lower() == suffix for suffix in (*BPMN_SUFFIXES, *DMN_SUFFIXES, *FORM_SUFFIXES)):
        return "The file name has a suffix but no name."
    return None


def _content_problem(upload: Any) -> str | None:
    if not isinstance(getattr(upload, "content", None), bytes | bytearray):
        return "The file has no readable content."
    return None


def _kind_of(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(BPMN_SUFFIXES):
        return "bpmn"
    if lowered.endswith(DMN_SUFFIXES):
        return "dmn"
    if lowered.endswith(FORM_SUFFIXES):
        return "form"
    return None


def _check_size(upload: UploadedFile, max_file_bytes: int) -> None:
    size = len(upload.content)
    if size > max_file_bytes:
        raise PayloadTooLarge(
            f"'{upload.filename}' is {size} bytes; the limit is {max_file_bytes} bytes per file.",
            details={"file": upload.filename, "size": size, "max_file_bytes": max_file_bytes},
        )
