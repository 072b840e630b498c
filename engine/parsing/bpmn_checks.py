"""Weft's rules on an uploaded BPMN file, checked on the XML before Spiff sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from engine.parsing.documents import NS, Document, ReferenceIndex
from engine.parsing.elements import label_of, local_name, owner_of
from engine.parsing.expressions import (
    DOCUMENT_EXPRESSION_PATHS,
    EXPRESSION_PATHS,
    XPATH_DEFAULT,
    is_python,
    language_name,
    sniffed_language,
    string_literal,
)
from engine.parsing.foreign_extensions import DECISION_HINT, SERVICE_HINT, foreign_settings
from engine.parsing.iso_timers import ISO_DURATION, TIMER_EXAMPLES, TIMER_KINDS, iso_kind
from engine.parsing.lanes import lane_name_problems
from engine.parsing.problems import Problems
from engine.parsing.service_operations import operator_problems
from engine.sandbox import ScriptError, check_syntax

PRIORITY = re.compile(r"^[0-9]$")


@dataclass
class BpmnRules:
    """Weft's rules on one uploaded BPMN file."""

    doc: Document
    problems: Problems
    forms: set[str]
    index: ReferenceIndex
    vendor_refused: set[str] = field(default_factory=set)

    def check(self) -> None:
        self._check_data_stores()
        processes = self.doc.executable_processes()
        if not processes:
            self._report_not_executable()
            return
        for process in processes:
            self._check_process(process)
        for path, what in DOCUMENT_EXPRESSION_PATHS:
            for node in self.doc.root.xpath(path, namespaces=NS):
                self._expression(node, f"{what} of '{label_of(node)}'", "expression")

    def report(self, message: str, node: etree._Element, element_id: str | None = None) -> None:
        owner = owner_of(node)
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
                f"Data stores are not supported ('{label_of(node)}'): keep the data in process "
                "variables or in CRM records reached through service tasks.",
                node,
                node.get("id"),
            )

    def _check_process(self, process: etree._Element) -> None:
        if not process.xpath("./bpmn:startEvent", namespaces=NS):
            self.report(
                f"Process '{label_of(process)}' has no start event: add one where it begins.",
                process,
            )
        for node, owner, message in foreign_settings(process):
            self.vendor_refused.add(owner.get("id"))
            self.report(message, node)
        self._check_conditions(process)
        self._check_scripts(process)
        self._check_timers(process)
        for path, what in EXPRESSION_PATHS:
            for node in process.xpath(path, namespaces=NS):
                self._expression(node, f"{what} of '{label_of(node)}'", "expression")
        self._check_properties(process)
        for lane, message in lane_name_problems(process):
            self.report(message, lane)
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
        if not declared or is_python(declared):
            return ""
        return (
            f" (the file declares {language_name(declared)} as its expression language; "
            f"Weft {kind}s are Python expressions)"
        )

    def _foreign_language(self, node: etree._Element, text: str) -> str | None:
        language = node.get("language") or self._default_language
        if not is_python(language):
            return language_name(language)
        return sniffed_language(text)

    @cached_property
    def _default_language(self) -> str | None:
        # Exporters write BPMN's default (XPath) whether or not they mean it; only another
        # explicit default says how the file's expressions are written.
        language = (self.doc.root.get("expressionLanguage") or "").strip()
        return None if language in ("", XPATH_DEFAULT) else language

    def _check_conditions(self, process: etree._Element) -> None:
        for flow in process.xpath(".//bpmn:sequenceFlow[bpmn:conditionExpression]", namespaces=NS):
            source = self.doc.by_id.get(flow.get("sourceRef") or "")
            if source is not None and local_name(source) not in (
                "exclusiveGateway",
                "inclusiveGateway",
            ):
                self.report(
                    f"Flow '{label_of(flow)}' has a condition but does not leave an exclusive or "
                    "inclusive gateway, so the condition would be ignored: add a gateway.",
                    flow,
                )
                continue
            for condition in flow.xpath("./bpmn:conditionExpression", namespaces=NS):
                self._expression(condition, f"Condition of flow '{label_of(flow)}'", "condition")

    def _check_scripts(self, process: etree._Element) -> None:
        for task in process.xpath(".//bpmn:scriptTask", namespaces=NS):
            script_format = (task.get("scriptFormat") or "").strip()
            if not is_python(script_format):
                self.report(
                    f"Script task '{label_of(task)}' is written in '{script_format}'; Weft "
                    "scripts are Python (scriptFormat python or empty).",
                    task,
                )
                continue
            scripts = task.xpath("./bpmn:script", namespaces=NS)
            if not scripts or not (scripts[-1].text or "").strip():
                self.report(f"Script task '{label_of(task)}' has no script.", task)
                continue
            self._compile(scripts[-1].text, "exec", scripts[-1], f"Script of '{label_of(task)}'")
        for node in process.xpath(
            ".//spiffworkflow:preScript | .//spiffworkflow:postScript", namespaces=NS
        ):
            if (node.text or "").strip():
                what = "Pre-script" if local_name(node) == "preScript" else "Post-script"
                self._compile(node.text, "exec", node, f"{what} of '{label_of(node)}'")

    def _check_timers(self, process: etree._Element) -> None:
        for definition in process.xpath(".//bpmn:timerEventDefinition", namespaces=NS):
            values = [child for child in definition if local_name(child) in TIMER_KINDS]
            if not values:
                self.report(
                    f"Timer of '{label_of(definition)}' has no timeDate, timeDuration or "
                    "timeCycle.",
                    definition,
                )
            for value in values:
                self._check_timer_value(value, TIMER_KINDS[local_name(value)])

    def _check_timer_value(self, node: etree._Element, expected: str) -> None:
        what = f"Timer of '{label_of(node)}'"
        text = (node.text or "").strip()
        bare = iso_kind(text)  # a bare ISO value reads the same in any expression language
        if bare is None:
            if not self._expression(node, what, "timer"):
                return
            literal = string_literal(text)
            if literal is None:
                return  # a computed value: it can only be checked when it runs
            bare = iso_kind(literal)
            if bare is None:
                self.report(f"{what}: '{literal}' is not an ISO 8601 {expected}.", node)
                return
        if bare != expected:
            self.report(
                f"{what}: '{text}' is an ISO 8601 {bare}, but a {local_name(node)} needs a "
                f"{expected} such as {TIMER_EXAMPLES[expected]}.",
                node,
            )

    # user tasks

    def _check_properties(self, process: etree._Element) -> None:
        path = ".//bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
        for node in process.xpath(path, namespaces=NS):
            name, value = node.get("name"), node.get("value")
            if name is None or value is None:
                self.report(
                    f"A spiffworkflow:property of '{label_of(node)}' needs both a name and a "
                    "value.",
                    node,
                )
            elif (owner := owner_of(node)) is not None and local_name(owner) == "userTask":
                self._check_user_task_property(node, name, value)

    def _check_user_task_property(self, node: etree._Element, name: str, value: str) -> None:
        task = label_of(node)
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
        literal = string_literal(text)
        if literal is not None and not ISO_DURATION.match(literal):
            self.report(
                f"dueIn of task '{task}': '{literal}' is not an ISO 8601 duration such as P2D.",
                node,
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
                    f"Service task '{label_of(task)}' does not say what to call: {SERVICE_HINT}.",
                    task,
                )
            elif not operators[0].get("id"):
                self.report(
                    f"The serviceTaskOperator of '{label_of(task)}' needs an id (the service "
                    "name).",
                    operators[0],
                )
            else:
                for message, node in operator_problems(operators[0], label_of(task)):
                    self.report(message, node, task.get("id"))

    def _check_business_rule_tasks(self, process: etree._Element) -> None:
        for task in process.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            refs = task.xpath(
                "./bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS
            )
            decision = (refs[0].text or "").strip() if refs else ""
            if not decision:
                if task.get("id") not in self.vendor_refused:
                    self.report(
                        f"Business rule task '{label_of(task)}' names no decision: "
                        f"{DECISION_HINT}.",
                        task,
                    )
            elif decision not in self.index.decisions:
                self.report(
                    f"Business rule task '{label_of(task)}' calls decision '{decision}', which "
                    "is not in an uploaded or deployed DMN file.",
                    refs[0],
                )

    def _check_call_activities(self, process: etree._Element) -> None:
        for call in process.xpath(".//bpmn:callActivity", namespaces=NS):
            target = (call.get("calledElement") or "").strip()
            callee = self.index.processes.get(target)
            if not target:
                self.report(
                    f"Call activity '{label_of(call)}' has no calledElement: set it to the id "
                    "of the process to call.",
                    call,
                )
            elif callee is None:
                self.report(
                    f"Call activity '{label_of(call)}' calls process '{target}', which is "
                    "neither in this upload nor deployed.",
                    call,
                )
            elif (callee.get("isExecutable") or "").strip() != "true":
                self.report(
                    f"Call activity '{label_of(call)}' calls process '{target}', which is not "
                    "executable: set isExecutable=true on it.",
                    call,
                )
