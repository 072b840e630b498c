"""Reading uploaded XML without trusting it: UTF-8 only, no DTD, no entities, no network.

Every problem is an `XmlRefused` carrying a message a designer can act on and, where the
parser knows it, the line.
"""

from __future__ import annotations

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# The DMN versions SpiffWorkflow 3.2 ships schemas for (SpiffWorkflow.dmn.parser.BpmnDmnParser).
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
)

_UTF8_BOM = b"\xef\xbb\xbf"


class XmlRefused(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers keep state and are not thread-safe. The encoding
    # is forced because we have already checked the bytes are UTF-8, whatever the declaration says.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        encoding="utf-8",
    )


def decode_utf8(content: bytes) -> str:
    """The text of an upload; refuses anything that is not UTF-8, naming the bad byte's line."""
    body = content[len(_UTF8_BOM) :] if content.startswith(_UTF8_BOM) else content
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise XmlRefused(
            f"The file is not UTF-8 text (byte 0x{body[exc.start]:02x} cannot be decoded); "
            "save it with UTF-8 encoding.",
            line,
        ) from None


def _prolog_has_doctype(text: str) -> bool:
    """Whether a DOCTYPE comes before the root element (the only place XML allows one).

    A plain scan instead of a regex: nested repetition over hostile input backtracks badly.
    """
    position, length = 0, len(text)
    while position < length:
        if text[position].isspace():
            position += 1
            continue
        for opener, closer in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opener, position):
                end = text.find(closer, position + len(opener))
                position = length if end < 0 else end + len(closer)
                break
        else:
            return text[position : position + 9].upper() == "<!DOCTYPE"
    return False


def parse_xml(content: bytes) -> etree._Element:
    """The root element of a hostile document, or XmlRefused."""
    text = decode_utf8(content)
    if _prolog_has_doctype(text):
        raise XmlRefused("DOCTYPE declarations are not allowed (no DTDs or entities).", 1)
    if not text.strip():
        raise XmlRefused("The file is empty.", None)
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(_syntax_message(exc.msg), exc.lineno) from None
    # Belt and braces: a DOCTYPE the prolog scan missed still refuses the document.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XmlRefused("DOCTYPE declarations are not allowed (no DTDs or entities).", 1)
    return root


def _syntax_message(detail: str) -> str:
    if "Excessive depth" in detail:  # libxml2's cap, which we keep (huge_tree=False)
        return "The file nests elements more than 256 levels deep."
    return f"The file is not well-formed XML: {detail}"


def require_bpmn_root(root: etree._Element) -> None:
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise XmlRefused(
            f"This is not a BPMN 2.0 file: the root element is {_describe(root)}, expected "
            f"'definitions' in the namespace {BPMN_NS}.",
            root.sourceline,
        )


def require_dmn_root(root: etree._Element) -> None:
    namespace = etree.QName(root).namespace
    if namespace not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
        raise XmlRefused(
            f"This is not a supported DMN file: the root element is {_describe(root)}, expected "
            f"'definitions' in one of the DMN namespaces {', '.join(DMN_NAMESPACES)}.",
            root.sourceline,
        )


def _describe(root: etree._Element) -> str:
    if not isinstance(root.tag, str):
        return "not an element"
    qname = etree.QName(root)
    return f"'{qname.localname}' in namespace {qname.namespace or '(none)'}"
