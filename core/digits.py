"""Whole numbers typed by people: is this text one that `int()` reads?

`str.isdigit()` is not the test: it is True for "²" and "١٢", which `int()` refuses or reads
as another script's digits, so a check with it lets such input through to a ValueError (a 500
instead of a field error).
"""

from __future__ import annotations

MAX_DIGITS = 4300  # int() refuses longer text (CPython's default int_max_str_digits)


def is_digits(text: str) -> bool:
    """True for 1 to MAX_DIGITS ASCII digits 0-9 and nothing else (no sign, no spaces)."""
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on both databases


def as_id(value: object) -> int | None:
    """A record id from what was typed or sent (an int, or ASCII digits): 1 to MAX_ID, else None.

    Larger numbers are no record's id, and PostgreSQL refuses them in a comparison with an
    INTEGER column (an error, not "not found"), so they never reach a query."""
    if type(value) is int:
        number = value
    elif isinstance(value, str) and is_digits(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None
