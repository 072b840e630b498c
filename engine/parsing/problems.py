"""What is wrong with an upload, collected as `{message, line, element_id, file}` details."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import Invalid

INVALID_MESSAGE = "The upload is not valid."
MAX_DETAILS = 200

TOO_DEEP = (
    "the diagram chains too many steps in a row for the parser (a few hundred at most); "
    "split it into called processes"
)


def detail(message: str, file: str, line: int | None = None, element_id: str | None = None):
    return {"message": message, "line": line, "element_id": element_id, "file": file}


@dataclass
class Problems:
    items: list[dict] = field(default_factory=list)
    _seen: set[tuple] = field(default_factory=set)

    def add(self, message: str, file: str, line: int | None = None, element_id: str | None = None):
        item = detail(message, file, line if isinstance(line, int) else None, element_id or None)
        identity = tuple(item.values())
        if identity not in self._seen:  # the same fault reached by two paths is reported once
            self._seen.add(identity)
            self.items.append(item)

    def files(self) -> set[str]:
        return {item["file"] for item in self.items}

    def raise_if_any(self) -> None:
        if not self.items:
            return
        details = self.items[:MAX_DETAILS]
        if len(self.items) > MAX_DETAILS:
            # A hostile file can hold thousands of faults; the first ones say what to fix.
            more = len(self.items) - MAX_DETAILS
            details.append(detail(f"... and {more} more problems like these.", details[-1]["file"]))
        raise Invalid(INVALID_MESSAGE, details=details)


def describe_exception(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return TOO_DEEP
    text = str(exc.args[0]) if exc.args else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
