"""Other engines' settings (Camunda, Activiti, Flowable, Zeebe) that Weft would silently ignore."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from engine.parsing.elements import label_of, local_name, owner_of
from engine.parsing.xml_safety import BPMN_NS

# How to say each thing the Weft way.
FORM_HINT = 'set the form with <spiffworkflow:property name="formKey" value="..."/>'
ASSIGN_HINT = (
    "Weft offers a user task to the role its lane is named after; name a person with "
    '<spiffworkflow:property name="assignee" .../> and set dueIn / priority the same way'
)
SERVICE_HINT = (
    "Weft service tasks call a registered service named by "
    '<spiffworkflow:serviceTaskOperator id="...">'
)
DECISION_HINT = "name the decision with <spiffworkflow:calledDecisionId>"
LISTENER_HINT = "Weft runs no listeners; use spiffworkflow:preScript / postScript"
MAPPING_HINT = "Weft does not map variables; tasks read and write the process data directly"
LOOP_HINT = "use bpmn:loopCardinality or bpmn:loopDataInputRef in the multi-instance marker"
SCRIPT_HINT = "Weft scripts are Python inside <bpmn:script>"

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
    "formKey": (None, FORM_HINT),
    "formRef": (None, FORM_HINT),
    "formHandlerClass": (None, FORM_HINT),
    "assignee": (None, ASSIGN_HINT),
    "candidateUsers": (None, ASSIGN_HINT),
    "candidateGroups": (None, ASSIGN_HINT),
    "dueDate": (None, ASSIGN_HINT),
    "followUpDate": (None, ASSIGN_HINT),
    "priority": (frozenset({"userTask"}), ASSIGN_HINT),
    "class": (frozenset({"serviceTask", "businessRuleTask"}), SERVICE_HINT),
    "expression": (frozenset({"serviceTask", "businessRuleTask"}), SERVICE_HINT),
    "delegateExpression": (frozenset({"serviceTask", "businessRuleTask"}), SERVICE_HINT),
    "type": (frozenset({"serviceTask", "businessRuleTask"}), SERVICE_HINT),
    "topic": (frozenset({"serviceTask", "businessRuleTask"}), SERVICE_HINT),
    "decisionRef": (None, DECISION_HINT),
    "resource": (frozenset({"scriptTask"}), SCRIPT_HINT),
}
_VENDOR_ELEMENTS: dict[str, tuple[frozenset | None, str]] = {
    "formData": (None, FORM_HINT),
    "formField": (None, FORM_HINT),
    "formDefinition": (None, FORM_HINT),
    "assignmentDefinition": (None, ASSIGN_HINT),
    "taskSchedule": (None, ASSIGN_HINT),
    "priorityDefinition": (None, ASSIGN_HINT),
    "taskDefinition": (_SERVICE_LIKE, SERVICE_HINT),
    "connector": (None, SERVICE_HINT),
    "calledDecision": (None, DECISION_HINT),
    "taskListener": (None, LISTENER_HINT),
    "executionListener": (None, LISTENER_HINT),
    "taskListeners": (None, LISTENER_HINT),
    "executionListeners": (None, LISTENER_HINT),
    "inputOutput": (None, MAPPING_HINT),
    "ioMapping": (None, MAPPING_HINT),
    "in": (frozenset({"callActivity"}), MAPPING_HINT),
    "out": (frozenset({"callActivity"}), MAPPING_HINT),
    "loopCharacteristics": (None, LOOP_HINT),
    "script": (frozenset({"scriptTask"}), SCRIPT_HINT),
}


def foreign_settings(
    process: etree._Element,
) -> Iterator[tuple[etree._Element, etree._Element, str]]:
    """(node, the flow element it is on, why it is refused) for each setting Weft would ignore."""
    for node in process.iter():
        if not isinstance(node.tag, str):
            continue
        namespace = etree.QName(node).namespace
        if namespace == BPMN_NS:
            candidates = [(attribute, _VENDOR_ATTRIBUTES) for attribute in node.attrib]
        elif namespace in VENDORS:
            candidates = [(node.tag, _VENDOR_ELEMENTS)]
        else:
            continue
        for tag, rules in candidates:
            refusal = _refusal(node, tag, rules)
            if refusal is not None:
                yield node, *refusal


def _refusal(node: etree._Element, tag: str, rules: dict) -> tuple[etree._Element, str] | None:
    qname = etree.QName(tag)
    if qname.namespace not in VENDORS or qname.localname not in rules:
        return None
    owner = owner_of(node)
    if owner is None:
        return None
    kinds, hint = rules[qname.localname]
    if kinds is not None and local_name(owner) not in kinds:
        return None
    if qname.localname == "script" and qname.namespace != _ZEEBE:
        return None
    prefix = next((p for p, uri in node.nsmap.items() if uri == qname.namespace and p), None)
    written = f"{prefix}:{qname.localname}" if prefix else qname.localname
    return owner, (
        f"{written} on {local_name(owner)} '{label_of(owner)}' is read by "
        f"{VENDORS[qname.namespace]}, not by Weft, so it would silently not work; {hint}."
    )
