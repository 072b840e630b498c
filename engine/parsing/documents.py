"""The BPMN and DMN files of an upload as XML, with the deployed files they may call into."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from lxml import etree

from engine.parsing.problems import Problems
from engine.parsing.uploads import UploadedFile
from engine.parsing.xml_safety import (
    BPMN_NS,
    XmlRefused,
    decode_utf8,
    parse_xml,
    require_bpmn_root,
    require_dmn_root,
)

log = logging.getLogger(__name__)

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}


@dataclass
class Document:
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


def read_documents(
    uploads: list[UploadedFile], require_root: Callable, problems: Problems
) -> list[Document]:
    documents = []
    for upload in uploads:
        try:
            content = bytes(upload.content)
            root = parse_xml(content)
            require_root(root)
        except XmlRefused as exc:
            problems.add(exc.message, upload.filename, line=exc.line)
            continue
        documents.append(Document(upload.filename, decode_utf8(content), root))
    return documents


@dataclass
class Library:
    """Already-deployed files an upload may call into; their own faults are not this upload's."""

    bpmn: list[Document]
    dmn: list[Document]

    @classmethod
    def read(
        cls,
        bpmn: dict[str, str],
        dmn: dict[str, str],
        uploaded_names: set[str],
        uploaded_bpmn: list[Document],
    ) -> Library:
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
    def _read(files: dict[str, str], skip: set[str], require_root: Callable) -> list[Document]:
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
            documents.append(Document(filename, text, root))
        return documents


@dataclass
class ReferenceIndex:
    """What call activities and business rule tasks may point at: this upload, then the library."""

    processes: dict[str, etree._Element]
    decisions: set[str]

    @classmethod
    def build(cls, library: Library, bpmn: list[Document], dmn: list[Document]):
        processes = {p.get("id"): p for doc in library.bpmn for p in doc.processes()}
        processes.update({p.get("id"): p for doc in bpmn for p in doc.processes()})
        decisions = {d for doc in (*library.dmn, *dmn) for d in doc.decision_ids}
        return cls(processes, decisions)


def check_duplicate_ids(bpmn: list[Document], dmn: list[Document], problems: Problems):
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
