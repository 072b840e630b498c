"""Helpers for designers (documented in docs/PROCESSES.md): money, dates, the clock."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from core import clock
from engine.sandbox.operators import safe_decimal


def round_money(value: Any, places: int = 2) -> float:
    """Round half up to `places` decimals, the way accountants do (not banker's rounding)."""
    amount = safe_decimal(value if isinstance(value, decimal.Decimal) else str(value))
    quantum = decimal.Decimal(1).scaleb(-int(places))
    return float(amount.quantize(quantum, rounding=decimal.ROUND_HALF_UP))


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):  # an instant: its day on the business calendar
        return clock.business_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 10:  # an instant: its day on the business calendar
            return clock.business_date(clock.parse_instant(text))
        return date.fromisoformat(text)
    raise TypeError(f"Expected a date or an ISO date string, got {type(value).__name__}.")


def today() -> str:
    """Today's date on the business calendar (China time) as an ISO string, e.g. '2026-11-23':
    at 07:00 in Suzhou it is already today there, though still yesterday in UTC."""
    return clock.business_today().isoformat()


def now() -> str:
    """The current instant as an ISO string in UTC."""
    return clock.now().isoformat()


def parse_date(value: Any) -> date:
    """A date from an ISO string (or a date/datetime), for comparisons and arithmetic."""
    return _as_date(value)


def add_days(value: Any, days: int) -> str:
    return (_as_date(value) + timedelta(days=int(days))).isoformat()


def add_months(value: Any, months: int) -> str:
    return (_as_date(value) + relativedelta(months=int(months))).isoformat()


def days_between(start: Any, end: Any) -> int:
    """Whole days from `start` to `end` (negative when `end` is earlier)."""
    return (_as_date(end) - _as_date(start)).days


def iso(value: Any) -> str:
    """A date, datetime or duration as its ISO-8601 string."""
    if isinstance(value, timedelta):
        return f"PT{int(value.total_seconds())}S"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


HELPERS: dict[str, Any] = {
    "round_money": round_money,
    "today": today,
    "now": now,
    "parse_date": parse_date,
    "add_days": add_days,
    "add_months": add_months,
    "days_between": days_between,
    "iso": iso,
    "Decimal": safe_decimal,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "UTC": UTC,
}
