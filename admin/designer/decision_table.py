"""A DMN decision table as editable rows, and the rows written back into the DMN XML.

Only the rules change (their input/output entries and description); the table's inputs,
outputs, hit policy and everything else in the file stay exactly as they were. Each rule keeps
its id when it has one, new rules get fresh ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from lxml import etree


@dataclass
class DecisionTable:
    decision_id: str
    name: str
    hit_policy: str
    inputs: list[str]
    outputs: list[str]
    rules: list[dict] = field(default_factory=list)  # {id, description, inputs[], outputs[]}


def _parse(xml: str):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(xml.encode(), parser)


def _children(element, name: str) -> list:
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _text(element) -> str:
    texts = _children(element, "text")
    return (texts[0].text or "") if texts else ""


def read_tables(xml: str) -> list[DecisionTable]:
    root = _parse(xml)
    tables = []
    for decision in _children(root, "decision"):
        for table in _children(decision, "decisionTable"):
            inputs = [
                i.get("label") or _text(_children(i, "inputExpression")[0])
                if _children(i, "inputExpression")
                else i.get("label", "")
                for i in _children(table, "input")
            ]
            outputs = [o.get("label") or o.get("name", "") for o in _children(table, "output")]
            rules = []
            for rule in _children(table, "rule"):
                description = _children(rule, "description")
                rules.append(
                    {
                        "id": rule.get("id", ""),
                        "description": (description[0].text or "") if description else "",
                        "inputs": [_text(e) for e in _children(rule, "inputEntry")],
                        "outputs": [_text(e) for e in _children(rule, "outputEntry")],
                    }
                )
            tables.append(
                DecisionTable(
                    decision.get("id", ""),
                    decision.get("name", ""),
                    table.get("hitPolicy", "UNIQUE"),
                    inputs,
                    outputs,
                    rules,
                )
            )
    return tables


def write_rules(xml: str, decision_id: str, rules: list[dict]) -> str:
    """The file with the rules of `decision_id`'s table replaced by `rules`."""
    root = _parse(xml)
    namespace = etree.QName(root).namespace
    tag = (lambda name: f"{{{namespace}}}{name}") if namespace else (lambda name: name)
    for decision in _children(root, "decision"):
        if decision.get("id") != decision_id:
            continue
        table = _children(decision, "decisionTable")[0]
        for old in _children(table, "rule"):
            table.remove(old)
        for rule in rules:
            rule_id = rule.get("id") or f"rule_{uuid.uuid4().hex[:8]}"
            element = etree.SubElement(table, tag("rule"), id=rule_id)
            if rule.get("description"):
                etree.SubElement(element, tag("description")).text = rule["description"]
            for kind, values in (("inputEntry", rule["inputs"]), ("outputEntry", rule["outputs"])):
                for index, value in enumerate(values):
                    entry = etree.SubElement(element, tag(kind), id=f"{rule_id}_{kind}_{index}")
                    etree.SubElement(entry, tag("text")).text = value
    return etree.tostring(root, encoding="unicode", pretty_print=True)


def rules_from_form(form, table: DecisionTable) -> list[dict]:
    """Posted rows `rule-N-in-M`, `rule-N-out-M`, `rule-N-description`, `rule-N-id`."""
    rules = []
    index = 0
    while f"rule-{index}-description" in form:
        prefix = f"rule-{index}-"
        index += 1
        inputs = [form.get(f"{prefix}in-{i}", "").strip() for i in range(len(table.inputs))]
        outputs = [form.get(f"{prefix}out-{o}", "").strip() for o in range(len(table.outputs))]
        if form.get(prefix + "delete") or not any(inputs + outputs):
            continue
        rules.append(
            {
                "id": form.get(prefix + "id", "").strip(),
                "description": form.get(prefix + "description", "").strip(),
                "inputs": [value or "-" for value in inputs],
                "outputs": outputs,
            }
        )
    return rules
