"""`is_digits`: the test every form and query parameter uses before `int()`."""

from __future__ import annotations

import pytest

from core.digits import MAX_DIGITS, is_digits


@pytest.mark.parametrize("text", ["0", "7", "0042", "2147483648", "9" * MAX_DIGITS])
def test_ascii_digits_are_read_as_int_reads_them(text):
    assert is_digits(text)
    assert int(text) >= 0  # and int() takes them


@pytest.mark.parametrize(
    "text", ["", "²", "١٢", "٣", "１２", "-1", "+1", " 1", "1.0", "1_000", "9" * (MAX_DIGITS + 1)]
)
def test_anything_else_is_not_a_whole_number(text):
    assert not is_digits(text)
