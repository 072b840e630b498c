"""The server's validation messages (forms/submission.py, in English) in the reader's language.

forms/ stays free of Flask and Babel; its messages are stable English sentences, some with
numbers in them. Each known sentence is a msgid here; the numbered ones are matched by pattern
and rebuilt from a translated template. Anything unknown is shown as it is.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

_FIXED = {
    "This field is required.": _l("This field is required."),
    "Choose one of the listed options.": _l("Choose one of the listed options."),
    "Choose from the listed options.": _l("Choose from the listed options."),
    "Choose a record.": _l("Choose a record."),
    "Enter a whole number.": _l("Enter a whole number."),
    "Enter a number.": _l("Enter a number."),
    "Enter a date (YYYY-MM-DD).": _l("Enter a date (YYYY-MM-DD)."),
    "Enter a date and time.": _l("Enter a date and time."),
    "Choose yes or no.": _l("Choose yes or no."),
    "Not a valid email address.": _l("Not a valid email address."),
    "Not a valid phone number.": _l("Not a valid phone number."),
    "Does not match the required format.": _l("Does not match the required format."),
    "This field is read-only.": _l("This field is read-only."),
    "Unknown field.": _l("Unknown field."),
}
_PATTERNS = [
    (re.compile(r"^Enter at most (\d+) characters\.$"), "max_chars"),
    (re.compile(r"^Enter between (\d+) and (\d+) characters\.$"), "between_chars"),
    (re.compile(r"^Enter a value from (\S+) to (\S+)\.$"), "range"),
    (re.compile(r"^Enter a value of at least (\S+)\.$"), "at_least"),
    (re.compile(r"^Enter a value of at most (\S+)\.$"), "at_most"),
    (re.compile(r"^Enter a quantity with at most (\d+) decimal places\.$"), "quantity_places"),
    (re.compile(r"^Enter an amount with at most (\d+) decimal places\.$"), "money_places"),
]


def _rebuilt(kind: str, groups: tuple[str, ...]) -> str:
    if kind == "max_chars":
        return _("Enter at most %(n)s characters.", n=groups[0])
    if kind == "between_chars":
        return _("Enter between %(low)s and %(high)s characters.", low=groups[0], high=groups[1])
    if kind == "range":
        return _("Enter a value from %(low)s to %(high)s.", low=groups[0], high=groups[1])
    if kind == "at_least":
        return _("Enter a value of at least %(low)s.", low=groups[0])
    if kind == "quantity_places":
        return _("Enter a quantity with at most %(n)s decimal places.", n=groups[0])
    if kind == "money_places":
        return _("Enter an amount with at most %(n)s decimal places.", n=groups[0])
    return _("Enter a value of at most %(high)s.", high=groups[0])


def translated(message: str) -> str:
    if message in _FIXED:
        return str(_FIXED[message])
    for pattern, kind in _PATTERNS:
        match = pattern.match(message)
        if match:
            return _rebuilt(kind, match.groups())
    return message
