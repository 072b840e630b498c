"""The specs of each uploaded executable process, built by Spiff's parser once every file is in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.parsing.documents import Document, Library
from engine.parsing.problems import Problems, describe_exception
from engine.parsing.spiff_loading import report_validation

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec


@dataclass
class ParsedProcess:
    key: str  # the executable process id
    name: str  # process name attribute or the id
    bpmn_filename: str
    spec: BpmnProcessSpec  # parser.get_spec(key)
    subprocess_specs: dict  # parser.get_subprocess_specs(key)
    form_keys: set[str]  # formKey of every user task in it and in its subprocess specs
    source_files: dict[str, str]  # filename -> XML text of every BPMN/DMN file it was built from


def build_processes(
    parser: SpiffBpmnParser,
    library: Library,
    dmn_docs: list[Document],
    bpmn_docs: list[Document],
    problems: Problems,
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
    doc: Document,
    process: etree._Element,
    sources: dict[str, str],
    problems: Problems,
) -> ParsedProcess | None:
    key = process.get("id")
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        report_validation(exc, doc, problems)
        return None
    except Exception as exc:  # Spiff's parser raises whatever it meets
        problems.add(
            f"Process '{key}' could not be read: {describe_exception(exc)}",
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
