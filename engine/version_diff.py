"""What changed between two versions of a process: BPMN elements added, removed or changed.

Elements are matched by id (bpmn-js and every modeler keep ids stable across edits). An element
"changed" when its type, attributes or own content (conditions, scripts, extension properties,
form keys) differ; the diagram layout (BPMNDI) is ignored, moving a shape is not a change.
Neither is what a modeler rewrites when it saves an unchanged element: the order of its
children (bpmn-js re-appends a boundary event or a lane's references when a shape moves) and
attributes written out at their BPMN default (bpmn-js leaves `cancelActivity="true"` out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from engine.models import ProcessDefinition
from engine.parsing.xml_safety import BPMN_NS

_LAYOUT_NAMESPACES = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
)

# BPMN 2.0 attribute defaults (bpmn-moddle's list): present with this value or absent, same thing.
_DEFAULTS = {
    "gatewayDirection": "Unspecified",
    "instantiate": "false",
    "eventGatewayType": "Exclusive",
    "textFormat": "text/plain",
    "isInterrupting": "true",
    "parallelMultiple": "false",
    "cancelActivity": "true",
    "waitForCompletion": "true",
    "isCollection": "false",
    "isForCompensation": "false",
    "startQuantity": "1",
    "completionQuantity": "1",
    "triggeredByEvent": "false",
    "isSequential": "false",
    "behavior": "All",
    "testBefore": "false",
    "cancelRemainingInstances": "true",
}


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str  # the BPMN element type, e.g. "userTask"
    name: str


@dataclass
class VersionDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_versions(old: ProcessDefinition, new: ProcessDefinition) -> VersionDiff:
    return diff_bpmn(old.source_files[old.bpmn_filename], new.source_files[new.bpmn_filename])


def diff_bpmn(old_xml: str, new_xml: str) -> VersionDiff:
    before, after = _elements(old_xml), _elements(new_xml)
    result = VersionDiff()
    for element_id, (change, signature) in after.items():
        if element_id not in before:
            result.added.append(change)
        elif before[element_id][1] != signature:
            result.changed.append(change)
    result.removed = [change for i, (change, _sig) in before.items() if i not in after]
    return result


def _elements(xml: str) -> dict[str, tuple[ElementChange, str]]:
    # Stored versions were parsed safely on upload; the same hardened settings anyway.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml.encode(), parser)
    found: dict[str, tuple[ElementChange, str]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        element_id = element.get("id")
        if not element_id or element.tag.endswith("}definitions"):
            continue
        kind = etree.QName(element).localname
        found[element_id] = (
            ElementChange(element_id, kind, element.get("name") or ""),
            _signature(element),
        )
    return found


def _signature(element) -> str:
    """The element's own content: attributes, text and children that have no id of their own
    (in any order: BPMN gives the order of an element's children no meaning)."""
    attributes = sorted(
        (k, v) for k, v in element.attrib.items() if k != "id" and _DEFAULTS.get(k) != v
    )
    children = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.get("id") and child.tag.startswith(f"{{{BPMN_NS}}}"):
            children.append(f"<{child.get('id')}>")  # its own entry covers its content
        elif not child.tag.startswith(tuple(f"{{{ns}}}" for ns in _LAYOUT_NAMESPACES)):
            children.append(_signature(child))
    return "\n".join(
        [element.tag, repr(attributes), (element.text or "").strip(), *sorted(children)]
    )
