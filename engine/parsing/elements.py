"""The BPMN flow element a nested XML node belongs to, and how to name it in a message."""

from __future__ import annotations

from lxml import etree

from engine.parsing.xml_safety import BPMN_NS

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


def owner_of(node: etree._Element) -> etree._Element | None:
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


def label_of(node: etree._Element) -> str:
    found = owner_of(node)
    found = node if found is None else found
    return " ".join((found.get("name") or "").split()) or found.get("id") or "?"


def local_name(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""
