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
