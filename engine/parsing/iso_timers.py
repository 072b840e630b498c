"""Bare ISO 8601 timer values (`P3D`, `2027-01-01T09:00:00Z`, `R/PT5M`) that Spiff can run."""

from __future__ import annotations

import re
from datetime import datetime

_DURATION = (
    r"P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)"
)
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
ISO_DURATION = re.compile(rf"^{_DURATION}$")
ISO_DATETIME = re.compile(rf"^{_DATETIME}$")
# Spiff runs a repeating interval as a duration alone, or with its start or its end instant.
ISO_CYCLE = re.compile(rf"^R\d*/(?:{_DURATION}|{_DATETIME}/{_DURATION}|{_DURATION}/{_DATETIME})$")
TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
TIMER_EXAMPLES = {
    "date": "2027-01-01T09:00:00Z",
    "duration": "P3D or PT1H30M",
    "cycle": "R6/P1D or R/PT5M",
}


def iso_kind(text: str) -> str | None:
    """'duration', 'date' or 'cycle' when `text` is a bare ISO 8601 value Spiff can run."""
    if ISO_DURATION.match(text):
        return "duration"
    if ISO_DATETIME.match(text):
        return "date" if _valid_datetime(text) else None
    if ISO_CYCLE.match(text):
        instants = [part for part in text.split("/")[1:] if not part.startswith("P")]
        return "cycle" if all(_valid_datetime(part) for part in instants) else None
    return None


def _valid_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
