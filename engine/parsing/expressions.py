"""Where BPMN holds expressions, and telling Python expressions from other languages."""

from __future__ import annotations

import ast

# Expressions inside a process: (XPath, what to call one in a message).
EXPRESSION_PATHS = (
    (".//bpmn:standardLoopCharacteristics/bpmn:loopCondition", "Loop condition"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "Loop cardinality"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:completionCondition", "Completion condition"),
    (".//bpmn:adHocSubProcess/bpmn:completionCondition", "Completion condition"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "Event condition"),
)
# Expressions anywhere in a file, outside the processes too (messages, correlations).
DOCUMENT_EXPRESSION_PATHS = (
    (".//spiffworkflow:messagePayload", "Message payload"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "Correlation"),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "Correlation"),
)

XPATH_DEFAULT = "http://www.w3.org/1999/XPath"
_LANGUAGE_NAMES = (
    ("javascript", "JavaScript"),
    ("ecmascript", "JavaScript"),
    ("groovy", "Groovy"),
    ("juel", "JUEL"),
    ("feel", "FEEL"),
    ("xpath", "XPath"),
    ("mvel", "MVEL"),
    ("java", "Java"),
    ("xhtml", "XHTML"),
)


def is_python(language: str | None) -> bool:
    return not (language or "").strip() or "python" in language.lower() or language.lower() == "py"


def language_name(language: str) -> str:
    lowered = language.lower()
    return next((name for needle, name in _LANGUAGE_NAMES if needle in lowered), language)


def sniffed_language(text: str) -> str | None:
    """The language an expression is visibly written in, when it is not Python."""
    if text.startswith(("${", "#{")):
        return "JUEL (${...})"
    if text.startswith("=") and not text.startswith("=="):
        return "FEEL (=...)"
    return None


def string_literal(expression: str) -> str | None:
    """The value of an expression that is just a quoted string, else None."""
    try:
        body = ast.parse(expression, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    return body.value if isinstance(body, ast.Constant) and isinstance(body.value, str) else None
