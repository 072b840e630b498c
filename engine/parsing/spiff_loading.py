"""The upload's files into SpiffWorkflow's parser, with its complaints in the designer's terms.

`parse_bundle` runs this one upload at a time: Spiff's XSD validator is shared state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.parsing.documents import SPIFF_NS, Document, Library
from engine.parsing.normalize import normalize_expressions
from engine.parsing.problems import TOO_DEEP, Problems, describe_exception
from engine.parsing.xml_safety import BPMN_NS

log = logging.getLogger(__name__)

MAX_SCHEMA_ERRORS_PER_FILE = 30


def load_into_spiff(
    parser: SpiffBpmnParser,
    library: Library,
    dmn_docs: list[Document],
    bpmn_docs: list[Document],
    problems: Problems,
) -> None:
    """Library first, so that an uploaded file's definitions win where ids collide."""
    for doc in library.dmn:
        _add_quietly(parser.add_dmn_xml, doc)
    for doc in dmn_docs:
        if doc.filename not in problems.files():
            _add_dmn(parser, doc, problems)
    for doc in library.bpmn:
        normalize_expressions(doc.root)
        _add_quietly(parser.add_bpmn_xml, doc)
    for doc in bpmn_docs:
        _add_bpmn(parser, doc, problems)


def _add_quietly(add: Callable, doc: Document) -> None:
    """Load a file whose own faults are not to be reported (deployed, or already refused)."""
    try:
        add(doc.root, filename=doc.filename)
    except Exception as exc:  # what fails to load is simply not callable
        log.debug("%s could not be loaded into the parser: %s", doc.filename, exc)


def _add_dmn(parser: SpiffBpmnParser, doc: Document, problems: Problems) -> None:
    try:
        parser.add_dmn_xml(doc.root, filename=doc.filename)
        for decision_id in doc.decision_ids:
            parser.dmn_parsers[decision_id].parse()
    except ValidationException as exc:
        report_validation(exc, doc, problems)
    except Exception as exc:  # Spiff's DMN parser raises whatever it meets
        problems.add(
            f"The decision table could not be read: {describe_exception(exc)}", doc.filename
        )


def _add_bpmn(parser: SpiffBpmnParser, doc: Document, problems: Problems) -> None:
    already_refused = doc.filename in problems.files()
    if not _schema_valid(doc, problems):
        return
    normalize_expressions(doc.root)
    if already_refused:
        # Loaded only so that other files calling into it resolve; Spiff would mostly repeat
        # the reasons already given, less clearly.
        _add_quietly(parser.add_bpmn_xml, doc)
        return
    try:
        parser.add_bpmn_xml(doc.root, filename=doc.filename)
    except ValidationException as exc:
        report_validation(exc, doc, problems)
    except Exception as exc:  # Spiff's parser raises whatever it meets
        problems.add(f"The diagram could not be read: {describe_exception(exc)}", doc.filename)


def _schema_valid(doc: Document, problems: Problems) -> bool:
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
    ("RecursionError(", TOO_DEEP[0].upper() + TOO_DEEP[1:] + "."),
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


def report_validation(exc: ValidationException, doc: Document, problems: Problems) -> None:
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
