"""Bare ISO timers quoted and expressions trimmed, so that Spiff evaluates them as Python."""

from __future__ import annotations

from lxml import etree

from engine.parsing.documents import NS
from engine.parsing.expressions import EXPRESSION_PATHS
from engine.parsing.iso_timers import ISO_DURATION, iso_kind
from engine.parsing.service_operations import normalize_operators


def normalize_expressions(root: etree._Element) -> None:
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
    for path in (".//bpmn:conditionExpression", *(path for path, _ in EXPRESSION_PATHS)):
        for node in root.xpath(path, namespaces=NS):
            node.text = (node.text or "").strip() or None
    for node in root.xpath(".//spiffworkflow:property[@value]", namespaces=NS):
        value = node.get("value").strip()
        if node.get("name") == "dueIn" and ISO_DURATION.match(value):
            value = f'"{value}"'
        node.set("value", value)
    normalize_operators(root)
