"""The `.json` task forms of an upload, by form key (validated by `forms.definitions`)."""

from __future__ import annotations

import logging

from core.errors import WeftError
from engine.parsing.problems import Problems, describe_exception
from engine.parsing.uploads import UploadedFile
from forms.definitions import load_form_file

log = logging.getLogger(__name__)


def read_forms(uploads: list[UploadedFile], problems: Problems) -> dict[str, dict]:
    forms: dict[str, dict] = {}
    origins: dict[str, str] = {}
    for upload in uploads:
        definition = _load_form(upload, problems)
        if definition is None:
            continue
        key = definition.get("key")
        if not isinstance(key, str) or not key:
            problems.add("The form has no key.", upload.filename, element_id="key")
        elif key in forms:
            problems.add(
                f"Form '{key}' is defined twice in this upload: in '{origins[key]}' and here.",
                upload.filename,
                element_id="key",
            )
        else:
            forms[key], origins[key] = definition, upload.filename
    return forms


def _load_form(upload: UploadedFile, problems: Problems) -> dict | None:
    try:
        definition = load_form_file(bytes(upload.content), upload.filename)
    except WeftError as exc:
        for message, path in _form_error_details(exc):
            problems.add(message, upload.filename, element_id=path)
        return None
    except Exception as exc:  # a form loader bug is still this file's problem
        log.exception("loading form %s failed", upload.filename)
        problems.add(f"The form could not be read: {describe_exception(exc)}", upload.filename)
        return None
    if not isinstance(definition, dict):
        problems.add("The form could not be read.", upload.filename)
        return None
    return definition


def _form_error_details(exc: WeftError) -> list[tuple[str, str | None]]:
    """`{path: [messages]}` (the form loader's shape) as (message, path) pairs."""
    details = exc.details
    if isinstance(details, dict) and details:
        pairs = []
        for path, messages in details.items():
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                pairs.append((f"{path}: {message}" if path else str(message), str(path) or None))
        return pairs
    if isinstance(details, list) and details:
        return [
            (str(item.get("message", item)) if isinstance(item, dict) else str(item), None)
            for item in details
        ]
    return [(exc.message, None)]
