"""Uploaded files into SpiffWorkflow specs, or refused with reasons a designer can act on.

Accepted files, told apart by name (a plain file name, no folders):

- `.bpmn` or `.bpmn20.xml`: BPMN 2.0 process diagrams;
- `.dmn`: DMN decision tables for business rule tasks;
- `.json`: task form definitions (see `forms.definitions`).

A bare `.xml` is refused: BPMN and DMN files are checked by different rules, and the suffix is
where the designer says which one a file is meant to be.

The upload comes straight from HTTP, so `parse_bundle` raises only `BadRequest` (no files, bad
names, unsupported types), `PayloadTooLarge` (a file over the cap) or `Invalid` (everything
else, with `details=[{message, line, element_id, file}, ...]`, as many as one pass finds).

Steps: read every file safely (`engine.xml_safety`), check Weft's rules on the XML (what Weft
runs, how expressions are written, user-task conventions, references between files), then let
SpiffWorkflow validate against the BPMN XSD and build the specs.
"""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from core.errors import BadRequest, Invalid, PayloadTooLarge, WeftError
from engine.sandbox import ScriptError, check_syntax
from engine.xml_safety import (
    BPMN_NS,
    XmlRefused,
    decode_utf8,
    parse_xml,
    require_bpmn_root,
    require_dmn_root,
)
from forms.definitions import load_form_file

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

log = logging.getLogger(__name__)

INVALID_MESSAGE = "The upload is not valid."
BPMN_SUFFIXES = (".bpmn20.xml", ".bpmn")
DMN_SUFFIXES = (".dmn",)
FORM_SUFFIXES = (".json",)
MAX_FILENAME_LENGTH = 200
MAX_SCHEMA_ERRORS_PER_FILE = 30
MAX_DETAILS = 200

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
PRIORITY = re.compile(r"^[0-9]$")

# Spiff validates with one module-level XMLSchema whose error log is shared state; uploads are
# rare, so running one upload's Spiff work at a time keeps reports from mixing across threads.
_SPIFF_LOCK = threading.Lock()


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content: bytes


@dataclass
class ParsedProcess:
    key: str  # the executable process id
    name: str  # process name attribute or the id
    bpmn_filename: str
    spec: BpmnProcessSpec  # parser.get_spec(key)
    subprocess_specs: dict  # parser.get_subprocess_specs(key)
    form_keys: set[str]  # formKey of every user task in it and in its subprocess specs
    source_files: dict[str, str]  # filename -> XML text of every BPMN/DMN file it was built from


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
    """Parse and validate an upload; see the module docstring for what is raised."""
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
            details=[_detail(f"The upload could not be read: {_describe_exception(exc)}", "")],
        ) from None


def _parse_bundle(
    files: list[UploadedFile],
    library_bpmn: dict[str, str],
    library_dmn: dict[str, str],
    known_form_keys: set[str],
    max_file_bytes: int,
) -> ParsedBundle:
    uploads = _check_uploads(files, max_file_bytes)
    problems = _Problems()
    forms = _read_forms(uploads["form"], problems)
    dmn_docs = _read_documents(uploads["dmn"], require_dmn_root, problems)
    bpmn_docs = _read_documents(uploads["bpmn"], require_bpmn_root, problems)
    uploaded_names = {upload.filename for kind in uploads.values() for upload in kind}
    library = _Library.read(library_bpmn, library_dmn, uploaded_names, bpmn_docs)

    for doc in dmn_docs:
        _DmnRules(doc, problems).check()
    index = _ReferenceIndex.build(library, bpmn_docs, dmn_docs)
    for doc in bpmn_docs:
        _BpmnRules(doc, problems, set(forms) | known_form_keys, index).check()
    _check_duplicate_ids(bpmn_docs, dmn_docs, problems)

    with _SPIFF_LOCK:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        _load_into_spiff(parser, library, dmn_docs, bpmn_docs, problems)
        processes = _build_processes(parser, library, dmn_docs, bpmn_docs, problems)
    problems.raise_if_any()
    return ParsedBundle(
        processes=processes,
        forms=forms,
        dmn_files={doc.filename: doc.text for doc in dmn_docs},
        decision_ids={doc.filename: doc.decision_ids for doc in dmn_docs},
    )


# --- problems ------------------------------------------------------------------------------


def _detail(message: str, file: str, line: int | None = None, element_id: str | None = None):
    return {"message": message, "line": line, "element_id": element_id, "file": file}


@dataclass
class _Problems:
    items: list[dict] = field(default_factory=list)
    _seen: set[tuple] = field(default_factory=set)

    def add(self, message: str, file: str, line: int | None = None, element_id: str | None = None):
        item = _detail(message, file, line if isinstance(line, int) else None, element_id or None)
        identity = tuple(item.values())
        if identity not in self._seen:  # the same fault reached by two paths is reported once
            self._seen.add(identity)
            self.items.append(item)

    def files(self) -> set[str]:
        return {item["file"] for item in self.items}

    def raise_if_any(self) -> None:
        if not self.items:
            return
        details = self.items[:MAX_DETAILS]
        if len(self.items) > MAX_DETAILS:
            # A hostile file can hold thousands of faults; the first ones say what to fix.
            more = len(self.items) - MAX_DETAILS
            details.append(
                _detail(f"... and {more} more problems like these.", details[-1]["file"])
            )
        raise Invalid(INVALID_MESSAGE, details=details)


_TOO_DEEP = (
    "the diagram chains too many steps in a row for the parser (a few hundred at most); "
    "split it into called processes"
)


def _describe_exception(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return _TOO_DEEP
    text = str(exc.args[0]) if exc.args else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- the files of an upload ------------------------------------------------------------------


def _check_uploads(files: Any, max_file_bytes: int) -> dict[str, list[UploadedFile]]:
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
            refusals.append(_detail(reason, name if isinstance(name, str) else ""))
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


# --- forms -------------------------------------------------------------------------------------


def _read_forms(uploads: list[UploadedFile], problems: _Problems) -> dict[str, dict]:
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


def _load_form(upload: UploadedFile, problems: _Problems) -> dict | None:
    try:
        definition = load_form_file(bytes(upload.content), upload.filename)
    except WeftError as exc:
        for message, path in _form_error_details(exc):
            problems.add(message, upload.filename, element_id=path)
        return None
    except Exception as exc:  # a form loader bug is still this file's problem
        log.exception("loading form %s failed", upload.filename)
        problems.add(f"The form could not be read: {_describe_exception(exc)}", upload.filename)
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


# --- XML documents -----------------------------------------------------------------------------


@dataclass
class _Document:
    filename: str
    text: str
    root: etree._Element

    @cached_property
    def by_id(self) -> dict[str, etree._Element]:
        index: dict[str, etree._Element] = {}
        for element in self.root.iter():
            element_id = element.get("id") if isinstance(element.tag, str) else None
            if element_id:
                index.setdefault(element_id, element)
        return index

    @cached_property
    def id_by_line(self) -> dict[int, str]:
        index: dict[int, str] = {}
        for element_id, element in self.by_id.items():
            index.setdefault(element.sourceline, element_id)
        return index

    def processes(self) -> list[etree._Element]:
        return self.root.xpath("./bpmn:process", namespaces=NS)

    def executable_processes(self) -> list[etree._Element]:
        # Only an explicit isExecutable="true" deploys: many tools write diagrams for people.
        return [p for p in self.processes() if (p.get("isExecutable") or "").strip() == "true"]

    @cached_property
    def dmn_ns(self) -> dict[str, str]:
        return {"dmn": etree.QName(self.root).namespace or ""}

    @cached_property
    def decision_ids(self) -> list[str]:
        return [d.get("id") for d in self.root.xpath(".//dmn:decision", namespaces=self.dmn_ns)]


def _read_documents(
    uploads: list[UploadedFile], require_root: Callable, problems: _Problems
) -> list[_Document]:
    documents = []
    for upload in uploads:
        try:
            content = bytes(upload.content)
            root = parse_xml(content)
            require_root(root)
        except XmlRefused as exc:
            problems.add(exc.message, upload.filename, line=exc.line)
            continue
        documents.append(_Document(upload.filename, decode_utf8(content), root))
    return documents


@dataclass
class _Library:
    """Already-deployed files an upload may call into; their own faults are not this upload's."""

    bpmn: list[_Document]
    dmn: list[_Document]

    @classmethod
    def read(
        cls,
        bpmn: dict[str, str],
        dmn: dict[str, str],
        uploaded_names: set[str],
        uploaded_bpmn: list[_Document],
    ) -> _Library:
        redefined = {p.get("id") for doc in uploaded_bpmn for p in doc.processes()}
        bpmn_docs = cls._read(bpmn, uploaded_names, require_bpmn_root)
        for doc in bpmn_docs:
            # An upload of a process id is its next version: the deployed one steps aside.
            for process in doc.processes():
                if process.get("id") in redefined:
                    doc.root.remove(process)
            redefined.update(p.get("id") for p in doc.processes())
        return cls(bpmn_docs, cls._read(dmn, uploaded_names, require_dmn_root))

    @staticmethod
    def _read(files: dict[str, str], skip: set[str], require_root: Callable) -> list[_Document]:
        documents = []
        for filename, text in sorted(files.items()):
            if filename in skip or not isinstance(text, str):
                continue
            try:
                root = parse_xml(text.encode("utf-8"))
                require_root(root)
            except XmlRefused as exc:
                log.warning("deployed file %s is unreadable: %s", filename, exc.message)
                continue
            documents.append(_Document(filename, text, root))
        return documents


@dataclass
class _ReferenceIndex:
    """What call activities and business rule tasks may point at: this upload, then the library."""

    processes: dict[str, etree._Element]
    decisions: set[str]

    @classmethod
    def build(cls, library: _Library, bpmn: list[_Document], dmn: list[_Document]):
        processes = {p.get("id"): p for doc in library.bpmn for p in doc.processes()}
        processes.update({p.get("id"): p for doc in bpmn for p in doc.processes()})
        decisions = {d for doc in (*library.dmn, *dmn) for d in doc.decision_ids}
        return cls(processes, decisions)


def _check_duplicate_ids(bpmn: list[_Document], dmn: list[_Document], problems: _Problems):
    seen: dict[str, str] = {}
    for doc in bpmn:
        for process in doc.processes():
            key = process.get("id")
            if key in seen:
                problems.add(
                    f"Process id '{key}' is also defined in '{seen[key]}'; process ids must be "
                    "unique in an upload.",
                    doc.filename,
                    process.sourceline,
                    key,
                )
            seen.setdefault(key, doc.filename)
    decisions: dict[str, str] = {}
    for doc in dmn:
        for decision_id in doc.decision_ids:
            if decision_id in decisions:
                problems.add(
                    f"Decision id '{decision_id}' is also defined in '{decisions[decision_id]}'.",
                    doc.filename,
                    element_id=decision_id,
                )
            decisions.setdefault(decision_id, doc.filename)


# --- expressions -------------------------------------------------------------------------------

_DURATION = (
    r"P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)"
)
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
ISO_DURATION = re.compile(rf"^{_DURATION}$")
ISO_DATETIME = re.compile(rf"^{_DATETIME}$")
# Spiff runs a repeating interval as a duration alone, or with its start or its end instant.
ISO_CYCLE = re.compile(rf"^R\d*/(?:{_DURATION}|{_DATETIME}/{_DURATION}|{_DURATION}/{_DATETIME})$")
TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
TIMER_EXAMPLES = {
    "date": "2027-01-01T09:00:00Z",
    "duration": "P3D or PT1H30M",
    "cycle": "R6/P1D or R/PT5M",
}


def iso_kind(text: str) -> str | None:
    """'duration', 'date' or 'cycle' when `text` is a bare ISO 8601 value Spiff can run."""
    if ISO_DURATION.match(text):
        return "duration"
    if ISO_DATETIME.match(text):
        return "date" if _valid_datetime(text) else None
    if ISO_CYCLE.match(text):
        instants = [part for part in text.split("/")[1:] if not part.startswith("P")]
        return "cycle" if all(_valid_datetime(part) for part in instants) else None
    return None


def _valid_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _string_literal(expression: str) -> str | None:
    """The value of an expression that is just a quoted string, else None."""
    try:
        body = ast.parse(expression, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    return body.value if isinstance(body, ast.Constant) and isinstance(body.value, str) else None


_LANGUAGE_NAMES = (
    ("javascript", "JavaScript"),
    ("ecmascript", "JavaScript"),
    ("groovy", "Groovy"),
    ("juel", "JUEL"),
    ("feel", "FEEL"),
    ("xpath", "XPath"),
    ("mvel", "MVEL"),
    ("java", "Java"),
    ("xhtml", "XHTML"),
)
XPATH_DEFAULT = "http://www.w3.org/1999/XPath"


def _is_python(language: str | None) -> bool:
    return not (language or "").strip() or "python" in language.lower() or language.lower() == "py"


def _language_name(language: str) -> str:
    lowered = language.lower()
    return next((name for needle, name in _LANGUAGE_NAMES if needle in lowered), language)


def _sniffed_language(text: str) -> str | None:
    """The language an expression is visibly written in, when it is not Python."""
    if text.startswith(("${", "#{")):
        return "JUEL (${...})"
    if text.startswith("=") and not text.startswith("=="):
        return "FEEL (=...)"
    return None


# --- BPMN rules --------------------------------------------------------------------------------

_OWNER_NAMES = {
    "task",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "callActivity",
    "sequenceFlow",
    "process",
    "lane",
    "dataStore",
    "dataStoreReference",
    "message",
    "correlationProperty",
}


def _owner(node: etree._Element) -> etree._Element | None:
    """The flow element (task, event, flow, process...) a nested node belongs to."""
    current = node
    while current is not None:
        if isinstance(current.tag, str) and current.get("id"):
            qname = etree.QName(current)
            local = qname.localname
            if qname.namespace == BPMN_NS and (
                local in _OWNER_NAMES or local.endswith(("Task", "Event", "Gateway"))
            ):
                return current
        current = current.getparent()
    return None


def _label(node: etree._Element) -> str:
    owner = _owner(node)
    owner = node if owner is None else owner
    return " ".join((owner.get("name") or "").split()) or owner.get("id") or "?"


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


_FORM_HINT = 'set the form with <spiffworkflow:property name="formKey" value="..."/>'
_ASSIGN_HINT = (
    "Weft offers a user task to the role its lane is named after; name a person with "
    '<spiffworkflow:property name="assignee" .../> and set dueIn / priority the same way'
)
_SERVICE_HINT = (
    "Weft service tasks call a registered service named by "
    '<spiffworkflow:serviceTaskOperator id="...">'
)
_DECISION_HINT = "name the decision with <spiffworkflow:calledDecisionId>"
_LISTENER_HINT = "Weft runs no listeners; use spiffworkflow:preScript / postScript"
_MAPPING_HINT = "Weft does not map variables; tasks read and write the process data directly"
_LOOP_HINT = "use bpmn:loopCardinality or bpmn:loopDataInputRef in the multi-instance marker"
_SCRIPT_HINT = "Weft scripts are Python inside <bpmn:script>"

VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda 7",
    "http://activiti.org/bpmn": "Activiti/Camunda",
    "http://flowable.org/bpmn": "Flowable",
    "http://camunda.org/schema/zeebe/1.0": "Camunda 8 (Zeebe)",
}
_ZEEBE = "http://camunda.org/schema/zeebe/1.0"
_SERVICE_LIKE = frozenset({"serviceTask", "businessRuleTask", "scriptTask"})
# localname -> (the element kinds it matters on, None = any; the hint). Other vendor settings
# (async flags, modeler templates, tasklist flags...) change nothing Weft does and pass.
_VENDOR_ATTRIBUTES: dict[str, tuple[frozenset | None, str]] = {
    "formKey": (None, _FORM_HINT),
    "formRef": (None, _FORM_HINT),
    "formHandlerClass": (None, _FORM_HINT),
    "assignee": (None, _ASSIGN_HINT),
    "candidateUsers": (None, _ASSIGN_HINT),
    "candidateGroups": (None, _ASSIGN_HINT),
    "dueDate": (None, _ASSIGN_HINT),
    "followUpDate": (None, _ASSIGN_HINT),
    "priority": (frozenset({"userTask"}), _ASSIGN_HINT),
    "class": (frozenset({"serviceTask", "businessRuleTask"}), _SERVICE_HINT),
    "expression": (frozenset({"serviceTask", "businessRuleTask"}), _SERVICE_HINT),
    "delegateExpression": (frozenset({"serviceTask", "businessRuleTask"}), _SERVICE_HINT),
    "type": (frozenset({"serviceTask", "businessRuleTask"}), _SERVICE_HINT),
    "topic": (frozenset({"serviceTask", "businessRuleTask"}), _SERVICE_HINT),
    "decisionRef": (None, _DECISION_HINT),
    "resource": (frozenset({"scriptTask"}), _SCRIPT_HINT),
}
_VENDOR_ELEMENTS: dict[str, tuple[frozenset | None, str]] = {
    "formData": (None, _FORM_HINT),
    "formField": (None, _FORM_HINT),
    "formDefinition": (None, _FORM_HINT),
    "assignmentDefinition": (None, _ASSIGN_HINT),
    "taskSchedule": (None, _ASSIGN_HINT),
    "priorityDefinition": (None, _ASSIGN_HINT),
    "taskDefinition": (_SERVICE_LIKE, _SERVICE_HINT),
    "connector": (None, _SERVICE_HINT),
    "calledDecision": (None, _DECISION_HINT),
    "taskListener": (None, _LISTENER_HINT),
    "executionListener": (None, _LISTENER_HINT),
    "taskListeners": (None, _LISTENER_HINT),
    "executionListeners": (None, _LISTENER_HINT),
    "inputOutput": (None, _MAPPING_HINT),
    "ioMapping": (None, _MAPPING_HINT),
    "in": (frozenset({"callActivity"}), _MAPPING_HINT),
    "out": (frozenset({"callActivity"}), _MAPPING_HINT),
    "loopCharacteristics": (None, _LOOP_HINT),
    "script": (frozenset({"scriptTask"}), _SCRIPT_HINT),
}
_EXPRESSIONS = (
    (".//bpmn:standardLoopCharacteristics/bpmn:loopCondition", "Loop condition"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "Loop cardinality"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition", "Completion condition"),
    (".//bpmn:adHocSubProcess/bpmn:completionCondition", "Completion condition"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "Event condition"),
)
_DOCUMENT_EXPRESSIONS = (
    (".//spiffworkflow:messagePayload", "Message payload"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "Correlation"),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "Correlation"),
)


@dataclass
class _BpmnRules:
    """Weft's rules on one uploaded BPMN file, checked on the XML before Spiff sees it."""

    doc: _Document
    problems: _Problems
    forms: set[str]
    index: _ReferenceIndex
    vendor_refused: set[str] = field(default_factory=set)

    def check(self) -> None:
        self._check_data_stores()
        processes = self.doc.executable_processes()
        if not processes:
            self._report_not_executable()
            return
        for process in processes:
            self._check_process(process)
        for path, what in _DOCUMENT_EXPRESSIONS:
            for node in self.doc.root.xpath(path, namespaces=NS):
                self._expression(node, f"{what} of '{_label(node)}'", "expression")

    def report(self, message: str, node: etree._Element, element_id: str | None = None) -> None:
        owner = _owner(node)
        element_id = element_id or (owner.get("id") if owner is not None else node.get("id"))
        self.problems.add(message, self.doc.filename, node.sourceline, element_id)

    def _report_not_executable(self) -> None:
        processes = self.doc.processes()
        if not processes:
            self.report("The file defines no process.", self.doc.root)
            return
        self.problems.add(
            "No executable process: set isExecutable=true on the process you want to run.",
            self.doc.filename,
            processes[0].sourceline,
            ", ".join(p.get("id") or "?" for p in processes),
        )

    def _check_data_stores(self) -> None:
        for node in self.doc.root.xpath(
            ".//bpmn:dataStore | .//bpmn:dataStoreReference", namespaces=NS
        ):
            self.report(
                f"Data stores are not supported ('{_label(node)}'): keep the data in process "
                "variables or in CRM records reached through service tasks.",
                node,
                node.get("id"),
            )

    def _check_process(self, process: etree._Element) -> None:
        if not process.xpath("./bpmn:startEvent", namespaces=NS):
            self.report(
                f"Process '{_label(process)}' has no start event: add one where it begins.", process
            )
        self._check_vendor_settings(process)
        self._check_conditions(process)
        self._check_scripts(process)
        self._check_timers(process)
        for path, what in _EXPRESSIONS:
            for node in process.xpath(path, namespaces=NS):
                self._expression(node, f"{what} of '{_label(node)}'", "expression")
        self._check_properties(process)
        self._check_lanes(process)
        self._check_service_tasks(process)
        self._check_business_rule_tasks(process)
        self._check_call_activities(process)

    # sandboxed code

    def _compile(self, source: str, mode: str, node: etree._Element, what: str, hint="") -> bool:
        try:
            check_syntax(source, mode)
        except ScriptError as exc:
            line = getattr(exc, "line", None)
            where = f", line {line} of the script" if line and mode == "exec" else ""
            self.report(f"{what}{where}: {getattr(exc, 'message', exc)}{hint}", node)
            return False
        return True

    def _expression(self, node: etree._Element, what: str, kind: str) -> bool:
        """Whether the node's text is a Python expression the sandbox accepts; else reports."""
        text = (node.text or "").strip()
        if not text:
            self.report(f"{what} is empty.", node)
            return False
        language = self._foreign_language(node, text)
        if language:
            self.report(
                f"{what}: expression language {language} is not supported; "
                f"Weft {kind}s are Python expressions.",
                node,
            )
            return False
        return self._compile(text, "eval", node, what, self._declared_language_hint(kind))

    def _declared_language_hint(self, kind: str) -> str:
        declared = (self.doc.root.get("expressionLanguage") or "").strip()
        if not declared or _is_python(declared):
            return ""
        return (
            f" (the file declares {_language_name(declared)} as its expression language; "
            f"Weft {kind}s are Python expressions)"
        )

    def _foreign_language(self, node: etree._Element, text: str) -> str | None:
        language = node.get("language") or self._default_language
        if not _is_python(language):
            return _language_name(language)
        return _sniffed_language(text)

    @cached_property
    def _default_language(self) -> str | None:
        # Exporters write BPMN's default (XPath) whether or not they mean it; only another
        # explicit default says how the file's expressions are written.
        language = (self.doc.root.get("expressionLanguage") or "").strip()
        return None if language in ("", XPATH_DEFAULT) else language

    def _check_conditions(self, process: etree._Element) -> None:
        for flow in process.xpath(".//bpmn:sequenceFlow[bpmn:conditionExpression]", namespaces=NS):
            source = self.doc.by_id.get(flow.get("sourceRef") or "")
            if source is not None and _local(source) not in (
                "exclusiveGateway",
                "inclusiveGateway",
            ):
                self.report(
                    f"Flow '{_label(flow)}' has a condition but does not leave an exclusive or "
                    "inclusive gateway, so the condition would be ignored: add a gateway.",
                    flow,
                )
                continue
            for condition in flow.xpath("./bpmn:conditionExpression", namespaces=NS):
                self._expression(condition, f"Condition of flow '{_label(flow)}'", "condition")

    def _check_scripts(self, process: etree._Element) -> None:
        for task in process.xpath(".//bpmn:scriptTask", namespaces=NS):
            script_format = (task.get("scriptFormat") or "").strip()
            if not _is_python(script_format):
                self.report(
                    f"Script task '{_label(task)}' is written in '{script_format}'; Weft scripts "
                    "are Python (scriptFormat python or empty).",
                    task,
                )
                continue
            scripts = task.xpath("./bpmn:script", namespaces=NS)
            if not scripts or not (scripts[-1].text or "").strip():
                self.report(f"Script task '{_label(task)}' has no script.", task)
                continue
            self._compile(scripts[-1].text, "exec", scripts[-1], f"Script of '{_label(task)}'")
        for node in process.xpath(
            ".//spiffworkflow:preScript | .//spiffworkflow:postScript", namespaces=NS
        ):
            if (node.text or "").strip():
                what = "Pre-script" if _local(node) == "preScript" else "Post-script"
                self._compile(node.text, "exec", node, f"{what} of '{_label(node)}'")

    def _check_timers(self, process: etree._Element) -> None:
        for definition in process.xpath(".//bpmn:timerEventDefinition", namespaces=NS):
            values = [child for child in definition if _local(child) in TIMER_KINDS]
            if not values:
                self.report(
                    f"Timer of '{_label(definition)}' has no timeDate, timeDuration or timeCycle.",
                    definition,
                )
            for value in values:
                self._check_timer_value(value, TIMER_KINDS[_local(value)])

    def _check_timer_value(self, node: etree._Element, expected: str) -> None:
        what = f"Timer of '{_label(node)}'"
        text = (node.text or "").strip()
        bare = iso_kind(text)  # a bare ISO value reads the same in any expression language
        if bare is None:
            if not self._expression(node, what, "timer"):
                return
            literal = _string_literal(text)
            if literal is None:
                return  # a computed value: it can only be checked when it runs
            bare = iso_kind(literal)
            if bare is None:
                self.report(f"{what}: '{literal}' is not an ISO 8601 {expected}.", node)
                return
        if bare != expected:
            self.report(
                f"{what}: '{text}' is an ISO 8601 {bare}, but a {_local(node)} needs a "
                f"{expected} such as {TIMER_EXAMPLES[expected]}.",
                node,
            )

    # user tasks, lanes

    def _check_properties(self, process: etree._Element) -> None:
        path = ".//bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
        for node in process.xpath(path, namespaces=NS):
            name, value = node.get("name"), node.get("value")
            if name is None or value is None:
                self.report(
                    f"A spiffworkflow:property of '{_label(node)}' needs both a name and a value.",
                    node,
                )
            elif _owner(node) is not None and _local(_owner(node)) == "userTask":
                self._check_user_task_property(node, name, value)

    def _check_user_task_property(self, node: etree._Element, name: str, value: str) -> None:
        task = _label(node)
        if name == "formKey":
            key = value.strip()
            if not key:
                self.report(f"Task '{task}' has an empty formKey.", node)
            elif key not in self.forms:
                self.report(
                    f"Form '{key}' used by task '{task}' is not in this upload and not deployed.",
                    node,
                )
        elif name == "assignee" and value.strip():
            self._compile(value.strip(), "eval", node, f"Assignee of task '{task}'")
        elif name == "dueIn" and value.strip():
            self._check_due_in(node, value.strip(), task)
        elif name == "priority" and not PRIORITY.match(value.strip()):
            self.report(f"Priority of task '{task}' must be a whole number from 0 to 9.", node)

    def _check_due_in(self, node: etree._Element, text: str, task: str) -> None:
        if ISO_DURATION.match(text):
            return
        if not self._compile(text, "eval", node, f"dueIn of task '{task}'"):
            return
        literal = _string_literal(text)
        if literal is not None and not ISO_DURATION.match(literal):
            self.report(
                f"dueIn of task '{task}': '{literal}' is not an ISO 8601 duration such as P2D.",
                node,
            )

    def _check_lanes(self, process: etree._Element) -> None:
        # A lane holding a subprocess hands its role to the user tasks inside it.
        holders = {
            element.get("id")
            for task in process.xpath(".//bpmn:userTask", namespaces=NS)
            for element in (task, *task.iterancestors())
        }
        # Like Spiff, the last lane listing a node wins, which is the innermost of nested lanes.
        lane_of: dict[str, etree._Element] = {}
        for ref in process.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces=NS):
            lane_of[(ref.text or "").strip()] = ref.getparent()
        for lane in dict.fromkeys(lane for node, lane in lane_of.items() if node in holders):
            self._check_lane_name(lane)

    def _check_lane_name(self, lane: etree._Element) -> None:
        name = (lane.get("name") or "").strip()
        if not name:
            self.report(
                f"Lane '{lane.get('id')}' holds user tasks but has no name; name it after the "
                "role whose members do them (a role key such as sales_manager).",
                lane,
            )
        elif not ROLE_KEY.match(name):
            suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
            if suggestion and not suggestion[0].isalpha():
                suggestion = f"role_{suggestion}"
            example = f", e.g. '{suggestion[:80]}'" if suggestion else ""
            self.report(
                f"Lane name '{name}' is not a role key: a lane holding user tasks is named after "
                "a role, in lowercase letters, digits and _ starting with a letter"
                f"{example}.",
                lane,
            )

    # tasks that call something

    def _check_service_tasks(self, process: etree._Element) -> None:
        for task in process.xpath(".//bpmn:serviceTask", namespaces=NS):
            if task.get("id") in self.vendor_refused:
                continue
            operators = task.xpath(
                "./bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NS
            )
            if not operators:
                self.report(
                    f"Service task '{_label(task)}' does not say what to call: {_SERVICE_HINT}.",
                    task,
                )
            elif not operators[0].get("id"):
                self.report(
                    f"The serviceTaskOperator of '{_label(task)}' needs an id (the service name).",
                    operators[0],
                )

    def _check_business_rule_tasks(self, process: etree._Element) -> None:
        for task in process.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            refs = task.xpath(
                "./bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS
            )
            decision = (refs[0].text or "").strip() if refs else ""
            if not decision:
                if task.get("id") not in self.vendor_refused:
                    self.report(
                        f"Business rule task '{_label(task)}' names no decision: {_DECISION_HINT}.",
                        task,
                    )
            elif decision not in self.index.decisions:
                self.report(
                    f"Business rule task '{_label(task)}' calls decision '{decision}', which is "
                    "not in an uploaded or deployed DMN file.",
                    refs[0],
                )

    def _check_call_activities(self, process: etree._Element) -> None:
        for call in process.xpath(".//bpmn:callActivity", namespaces=NS):
            target = (call.get("calledElement") or "").strip()
            callee = self.index.processes.get(target)
            if not target:
                self.report(
                    f"Call activity '{_label(call)}' has no calledElement: set it to the id of "
                    "the process to call.",
                    call,
                )
            elif callee is None:
                self.report(
                    f"Call activity '{_label(call)}' calls process '{target}', which is neither "
                    "in this upload nor deployed.",
                    call,
                )
            elif (callee.get("isExecutable") or "").strip() != "true":
                self.report(
                    f"Call activity '{_label(call)}' calls process '{target}', which is not "
                    "executable: set isExecutable=true on it.",
                    call,
                )

    # other engines' settings

    def _check_vendor_settings(self, process: etree._Element) -> None:
        for node in process.iter():
            if not isinstance(node.tag, str):
                continue
            namespace = etree.QName(node).namespace
            if namespace == BPMN_NS:
                for attribute in node.attrib:
                    self._vendor_setting(node, attribute, _VENDOR_ATTRIBUTES)
            elif namespace in VENDORS:
                self._vendor_setting(node, node.tag, _VENDOR_ELEMENTS)

    def _vendor_setting(self, node: etree._Element, tag: str, rules: dict) -> None:
        qname = etree.QName(tag)
        if qname.namespace not in VENDORS or qname.localname not in rules:
            return
        owner = _owner(node)
        if owner is None:
            return
        kinds, hint = rules[qname.localname]
        if kinds is not None and _local(owner) not in kinds:
            return
        if qname.localname == "script" and qname.namespace != _ZEEBE:
            return
        prefix = next((p for p, uri in node.nsmap.items() if uri == qname.namespace and p), None)
        written = f"{prefix}:{qname.localname}" if prefix else qname.localname
        self.vendor_refused.add(owner.get("id"))
        self.report(
            f"{written} on {_local(owner)} '{_label(owner)}' is read by "
            f"{VENDORS[qname.namespace]}, not by Weft, so it would silently not work; {hint}.",
            node,
        )


# --- DMN rules ---------------------------------------------------------------------------------


@dataclass
class _DmnRules:
    doc: _Document
    problems: _Problems

    def report(self, message: str, node: etree._Element, element_id: str | None = None) -> None:
        self.problems.add(message, self.doc.filename, node.sourceline, element_id)

    def check(self) -> None:
        root = self.doc.root
        nsmap = root.nsmap
        namespace = etree.QName(root).namespace
        # Spiff's DMN parser finds elements through the default namespace (or a `dmn` prefix).
        if nsmap.get(None, nsmap.get("dmn")) != namespace:
            self.report(
                "Write the DMN elements in the default namespace (or with the dmn: prefix).", root
            )
            return
        decisions = root.xpath(".//dmn:decision", namespaces=self.doc.dmn_ns)
        if len(decisions) != 1:
            ids = ", ".join(d.get("id") or "?" for d in decisions) or None
            self.report(
                f"A DMN file must define exactly one decision; this one has {len(decisions)}.",
                root,
                ids,
            )
            return
        self._check_decision(decisions[0])

    def _check_decision(self, decision: etree._Element) -> None:
        ns = self.doc.dmn_ns
        decision_id = decision.get("id")
        if not decision.xpath("./dmn:decisionTable", namespaces=ns):
            self.report(
                f"Decision '{decision_id}' is not a decision table; Weft runs decision tables.",
                decision,
                decision_id,
            )
            return
        for node in [*decision.xpath(".//*[@expressionLanguage]"), self.doc.root]:
            language = node.get("expressionLanguage")
            if language and not _is_python(language):
                self.report(
                    f"Expression language {_language_name(language)} is not supported; Weft "
                    "decision tables use Python expressions.",
                    node,
                    decision_id,
                )
                return
        for text in decision.xpath(".//dmn:inputExpression/dmn:text", namespaces=ns):
            self._check_input(text, decision_id)

    def _check_input(self, node: etree._Element, decision_id: str) -> None:
        source = (node.text or "").strip()
        if not source:
            return
        try:
            check_syntax(source, "eval")
        except ScriptError as exc:
            self.report(
                f"Input expression '{source}' of decision '{decision_id}': "
                f"{getattr(exc, 'message', exc)}",
                node,
                decision_id,
            )


# --- SpiffWorkflow ------------------------------------------------------------------------------


def _load_into_spiff(
    parser: SpiffBpmnParser,
    library: _Library,
    dmn_docs: list[_Document],
    bpmn_docs: list[_Document],
    problems: _Problems,
) -> None:
    """Library first, so that an uploaded file's definitions win where ids collide."""
    for doc in library.dmn:
        _add_quietly(parser.add_dmn_xml, doc)
    for doc in dmn_docs:
        if doc.filename not in problems.files():
            _add_dmn(parser, doc, problems)
    for doc in library.bpmn:
        _normalize_expressions(doc.root)
        _add_quietly(parser.add_bpmn_xml, doc)
    for doc in bpmn_docs:
        _add_bpmn(parser, doc, problems)


def _add_quietly(add: Callable, doc: _Document) -> None:
    """Load a file whose own faults are not to be reported (deployed, or already refused)."""
    try:
        add(doc.root, filename=doc.filename)
    except Exception as exc:  # what fails to load is simply not callable
        log.debug("%s could not be loaded into the parser: %s", doc.filename, exc)


def _add_dmn(parser: SpiffBpmnParser, doc: _Document, problems: _Problems) -> None:
    try:
        parser.add_dmn_xml(doc.root, filename=doc.filename)
        for decision_id in doc.decision_ids:
            parser.dmn_parsers[decision_id].parse()
    except ValidationException as exc:
        _report_validation(exc, doc, problems)
    except Exception as exc:  # Spiff's DMN parser raises whatever it meets
        problems.add(
            f"The decision table could not be read: {_describe_exception(exc)}", doc.filename
        )


def _add_bpmn(parser: SpiffBpmnParser, doc: _Document, problems: _Problems) -> None:
    already_refused = doc.filename in problems.files()
    if not _schema_valid(doc, problems):
        return
    _normalize_expressions(doc.root)
    if already_refused:
        # Loaded only so that other files calling into it resolve; Spiff would mostly repeat
        # the reasons already given, less clearly.
        _add_quietly(parser.add_bpmn_xml, doc)
        return
    try:
        parser.add_bpmn_xml(doc.root, filename=doc.filename)
    except ValidationException as exc:
        _report_validation(exc, doc, problems)
    except Exception as exc:  # Spiff's parser raises whatever it meets
        problems.add(f"The diagram could not be read: {_describe_exception(exc)}", doc.filename)


def _schema_valid(doc: _Document, problems: _Problems) -> bool:
    """Validate against the BPMN XSD, reporting every error (Spiff's validator keeps the last)."""
    VALIDATOR.preprocess(doc.root)
    schema = VALIDATOR.validator
    if schema.validate(doc.root):
        return True
    for error in list(schema.error_log)[:MAX_SCHEMA_ERRORS_PER_FILE]:
        problems.add(
            f"Not valid BPMN: {_shorten_namespaces(error.message)}",
            doc.filename,
            error.line,
            doc.id_by_line.get(error.line),
        )
    return False


def _shorten_namespaces(message: str) -> str:
    return message.replace(f"{{{BPMN_NS}}}", "bpmn:").replace(f"{{{SPIFF_NS}}}", "spiffworkflow:")


# Spiff messages that say what went wrong inside the parser, in the designer's terms instead.
_SPIFF_MESSAGES = (
    ("RecursionError(", _TOO_DEEP[0].upper() + _TOO_DEEP[1:] + "."),
    ("There is no support implemented for this task type", "Weft cannot run {tag} elements."),
    (
        "When looking for a task spec",
        "A sequence flow from {label} leads to an element that is not in the same process.",
    ),
    (
        "Non-default exclusive outgoing sequence flow without condition",
        "Flow {label} leaves a gateway without a condition and is not its default flow: "
        "add a condition or make it the default.",
    ),
    (
        "NotImplementedError('Unsupported Catch Event",
        "Boundary event {label} has no event definition (timer, message, error...).",
    ),
    (
        'TypeError("NodeParser.raise_validation_exception()',
        "Event {label} refers to a message, signal, error or escalation this file does not define.",
    ),
)


def _report_validation(exc: ValidationException, doc: _Document, problems: _Problems) -> None:
    """A Spiff ValidationException as a detail, with the line found from the element id."""
    message = str(exc.args[0]) if exc.args else "The diagram is not valid."
    element_id = getattr(exc, "id", "") or None
    tag = getattr(exc, "tag", "") or ""
    label = f"'{getattr(exc, 'name', '') or element_id}'" if element_id else ""
    for prefix, replacement in _SPIFF_MESSAGES:
        if message.startswith(prefix):
            message = replacement.format(tag=tag or "these", label=label).replace("  ", " ")
            break
    else:
        if tag and element_id:
            message = f"{message} ({tag} {label})"
    file = getattr(exc, "file_name", "") or doc.filename
    line = getattr(exc, "line_number", None)
    if not isinstance(line, int) and element_id and file == doc.filename:
        node = doc.by_id.get(element_id)
        line = node.sourceline if node is not None else None
    problems.add(message, file, line, element_id)


def _normalize_expressions(root: etree._Element) -> None:
    """Rewrite what Spiff will evaluate into plain Python, in the tree it is about to parse.

    Camunda-style tools write timers as bare ISO 8601 (`P3D`), but Spiff evaluates timer text as
    a Python expression; quoting the value here keeps Spiff's own parsers untouched and leaves
    the serialized spec holding an ordinary expression that the sandbox evaluates to the ISO
    string. Surrounding whitespace is dropped too: a pretty-printed `\\n  amount > 10\\n` is an
    IndentationError to Python.
    """
    for node in root.xpath(
        ".//bpmn:timeDate | .//bpmn:timeDuration | .//bpmn:timeCycle", namespaces=NS
    ):
        text = (node.text or "").strip()
        node.text = f'"{text}"' if iso_kind(text) else text
    for path in (".//bpmn:conditionExpression", *(path for path, _ in _EXPRESSIONS)):
        for node in root.xpath(path, namespaces=NS):
            node.text = (node.text or "").strip() or None
    for node in root.xpath(".//spiffworkflow:property[@value]", namespaces=NS):
        value = node.get("value").strip()
        if node.get("name") == "dueIn" and ISO_DURATION.match(value):
            value = f'"{value}"'
        node.set("value", value)


def _build_processes(
    parser: SpiffBpmnParser,
    library: _Library,
    dmn_docs: list[_Document],
    bpmn_docs: list[_Document],
    problems: _Problems,
) -> list[ParsedProcess]:
    sources = {doc.filename: doc.text for doc in (*library.bpmn, *library.dmn, *dmn_docs)}
    sources.update({doc.filename: doc.text for doc in bpmn_docs})
    built = []
    for doc in bpmn_docs:
        if doc.filename in problems.files():
            continue  # its faults are reported; Spiff would only repeat them less clearly
        for process in doc.executable_processes():
            parsed = _build_process(parser, doc, process, sources, problems)
            if parsed is not None:
                built.append(parsed)
    return built


def _build_process(
    parser: SpiffBpmnParser,
    doc: _Document,
    process: etree._Element,
    sources: dict[str, str],
    problems: _Problems,
) -> ParsedProcess | None:
    key = process.get("id")
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        _report_validation(exc, doc, problems)
        return None
    except Exception as exc:  # Spiff's parser raises whatever it meets
        problems.add(
            f"Process '{key}' could not be read: {_describe_exception(exc)}",
            doc.filename,
            process.sourceline,
            key,
        )
        return None
    specs = [spec, *(s for s in subprocess_specs.values() if s is not None)]
    files = _source_filenames(parser, specs)
    return ParsedProcess(
        key=key,
        name=(process.get("name") or "").strip() or key,
        bpmn_filename=doc.filename,
        spec=spec,
        subprocess_specs=subprocess_specs,
        form_keys=_form_keys(specs),
        source_files={name: sources[name] for name in sorted(files) if name in sources},
    )


def _form_keys(specs: Iterable) -> set[str]:
    keys = set()
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, UserTaskMixin):
                properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
                if properties.get("formKey"):
                    keys.add(properties["formKey"].strip())
    return keys


def _source_filenames(parser: SpiffBpmnParser, specs: list) -> set[str]:
    """The BPMN files the specs came from and the DMN files their business rule tasks run."""
    files = {spec.file for spec in specs if getattr(spec, "file", None)}
    table_files = {}
    for dmn_parser in parser.dmn_parsers.values():
        for table_id in dmn_parser.node.xpath(".//*[local-name()='decisionTable']/@id"):
            table_files[table_id] = dmn_parser.filename
    for spec in specs:
        for task_spec in spec.task_specs.values():
            table = getattr(getattr(task_spec, "dmnEngine", None), "decision_table", None)
            if table is not None and table.id in table_files:
                files.add(table_files[table.id])
    return files
