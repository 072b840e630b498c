"""`parse_bundle`: an upload through every step, into specs or one refusal listing all faults."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from core.errors import BadRequest, Invalid, PayloadTooLarge
from engine.parsing.bpmn_checks import BpmnRules
from engine.parsing.dmn_checks import DmnRules
from engine.parsing.documents import Library, ReferenceIndex, check_duplicate_ids, read_documents
from engine.parsing.form_files import read_forms
from engine.parsing.problems import INVALID_MESSAGE, Problems, describe_exception, detail
from engine.parsing.process_specs import ParsedProcess, build_processes
from engine.parsing.spiff_loading import load_into_spiff
from engine.parsing.uploads import UploadedFile, check_uploads
from engine.parsing.xml_safety import require_bpmn_root, require_dmn_root

log = logging.getLogger(__name__)

# Spiff validates with one module-level XMLSchema whose error log is shared state; uploads are
# rare, so running one upload's Spiff work at a time keeps reports from mixing across threads.
_SPIFF_LOCK = threading.Lock()


@dataclass
class ParsedBundle:
    processes: list[ParsedProcess]  # executable processes defined by the uploaded .bpmn files
    forms: dict[str, dict]  # form key -> validated definition, from uploaded .json files
    dmn_files: dict[str, str]  # filename -> XML text of uploaded .dmn files
    decision_ids: dict[str, list[str]]  # dmn filename -> decision ids in it


def parse_bundle(
    files: list[UploadedFile],
    *,
    library_bpmn: dict[str, str] | None = None,
    library_dmn: dict[str, str] | None = None,
    known_form_keys: set[str] | None = None,
    max_file_bytes: int = 5 * 1024 * 1024,
) -> ParsedBundle:
    """Parse and validate an upload; see `engine.parsing` for what is raised."""
    try:
        return _parse_bundle(
            files, library_bpmn or {}, library_dmn or {}, set(known_form_keys or ()), max_file_bytes
        )
    except (BadRequest, PayloadTooLarge, Invalid):
        raise
    except Exception as exc:  # hostile input must never become a 500
        log.exception("parsing an upload failed unexpectedly")
        raise Invalid(
            INVALID_MESSAGE,
            details=[detail(f"The upload could not be read: {describe_exception(exc)}", "")],
        ) from None


def _parse_bundle(
    files: list[UploadedFile],
    library_bpmn: dict[str, str],
    library_dmn: dict[str, str],
    known_form_keys: set[str],
    max_file_bytes: int,
) -> ParsedBundle:
    uploads = check_uploads(files, max_file_bytes)
    problems = Problems()
    forms = read_forms(uploads["form"], problems)
    dmn_docs = read_documents(uploads["dmn"], require_dmn_root, problems)
    bpmn_docs = read_documents(uploads["bpmn"], require_bpmn_root, problems)
    uploaded_names = {upload.filename for kind in uploads.values() for upload in kind}
    library = Library.read(library_bpmn, library_dmn, uploaded_names, bpmn_docs)

    for doc in dmn_docs:
        DmnRules(doc, problems).check()
    index = ReferenceIndex.build(library, bpmn_docs, dmn_docs)
    for doc in bpmn_docs:
        BpmnRules(doc, problems, set(forms) | known_form_keys, index).check()
    check_duplicate_ids(bpmn_docs, dmn_docs, problems)

    with _SPIFF_LOCK:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        load_into_spiff(parser, library, dmn_docs, bpmn_docs, problems)
        processes = build_processes(parser, library, dmn_docs, bpmn_docs, problems)
    problems.raise_if_any()
    return ParsedBundle(
        processes=processes,
        forms=forms,
        dmn_files={doc.filename: doc.text for doc in dmn_docs},
        decision_ids={doc.filename: doc.decision_ids for doc in dmn_docs},
    )
