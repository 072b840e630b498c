"""Weft's rules on an uploaded DMN file: one Python decision table Spiff's DMN parser can find."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.parsing.documents import Document
from engine.parsing.expressions import is_python, language_name
from engine.parsing.problems import Problems
from engine.sandbox import ScriptError, check_syntax


@dataclass
class DmnRules:
    doc: Document
    problems: Problems

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
            if language and not is_python(language):
                self.report(
                    f"Expression language {language_name(language)} is not supported; Weft "
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
