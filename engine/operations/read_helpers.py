"""Helpers for scripts and conditions that read the CRM: `customer(id)`, `contract(id)`,
`order(id)`, `record(collection, id)`, `acting_user()`; and helpers that follow the system
settings as of the step that calls them: `round_money(value)`, `round_quantity(value)`,
`add_working_hours(start, hours)`, `add_working_days(day, n)`, `is_working_day(day)`.

The record readers return a plain dict, as the REST API shows the record to the instance's
acting user (scoped and masked the same way). A record the acting user cannot see raises an
error that becomes an incident naming it. They work inside a running instance only.
"""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime
from typing import Any

from core import clock
from core.digits import as_id, is_digits
from core.errors import WeftError
from crm_domain.collections import get_collection
from crm_domain.record_service import get_record, to_dict
from crm_domain.settings import MAX_WORKING_DAYS, get_setting, working_calendar
from engine.operations.context import current_context
from engine.sandbox import round_money as _round_to

DEFAULT_MONEY_PLACES = 2
DEFAULT_QUANTITY_PLACES = 3


class RecordNotReadable(LookupError):
    pass


def read_record(collection: str, record_id: Any) -> dict:
    """The record as a plain dict, read as the instance's acting user."""
    ctx = current_context()
    try:
        get_collection(collection)
    except WeftError as exc:
        raise RecordNotReadable(exc.message) from None
    if isinstance(record_id, str) and is_digits(record_id.strip()):
        record_id = int(record_id)
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        raise RecordNotReadable(f"A {collection} id must be a whole number, not {record_id!r}.")
    if as_id(record_id) is None:
        raise RecordNotReadable(f"There is no {collection} record {record_id}.")
    try:
        row = get_record(ctx.session, ctx.actor, collection, record_id)
    except WeftError as exc:
        raise RecordNotReadable(exc.message) from None
    return to_dict(ctx.session, ctx.actor, collection, row)


def customer(customer_id: Any) -> dict:
    return read_record("customers", customer_id)


def contract(contract_id: Any) -> dict:
    return read_record("contracts", contract_id)


def order(order_id: Any) -> dict:
    return read_record("orders", order_id)


def acting_user() -> dict:
    """Who the instance acts as (its starter, or the system user): id, username, name, roles."""
    user = current_context().user
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": list(user.roles or ()),
    }


def _configured_places(key: str, default: int) -> int:
    """A decimal-places setting as of now (the stamp is checked on every read), or `default`
    outside a running instance."""
    try:
        ctx = current_context()
    except RuntimeError:
        return default
    try:
        return int(get_setting(ctx.session, key))
    except (WeftError, LookupError, TypeError, ValueError):
        return default


def money_places() -> int:
    """The configured decimal places for money (`money.decimal_places`), default 2."""
    return _configured_places("money.decimal_places", DEFAULT_MONEY_PLACES)


def quantity_places() -> int:
    """The configured decimal places for quantities (`quantity.decimal_places`), default 3."""
    return _configured_places("quantity.decimal_places", DEFAULT_QUANTITY_PLACES)


def _rounded(value: Any, places: int) -> float:
    if isinstance(value, float):
        value = decimal.Decimal(str(value))
    return _round_to(value, places)


def round_money(value: Any, places: int | None = None) -> float:
    """Round half up to the configured money decimal places (or `places` when given)."""
    return _rounded(value, money_places() if places is None else places)


def round_quantity(value: Any, places: int | None = None) -> float:
    """Round half up to the configured quantity decimal places (or `places` when given): a
    quantity a script computes for a quote or order line, made acceptable to it."""
    return _rounded(value, quantity_places() if places is None else places)


def _calendar():
    # Read on every call: an administrator's change to calendar.* applies to the next step.
    return working_calendar(current_context().session)


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            return clock.parse_instant(value.strip())
        except ValueError:
            pass
    raise ValueError(f"Expected an ISO date-time such as now(), not {value!r}.")


def _day(value: Any) -> date:
    """A plain date as it is; an instant (such as `now()`) as its date in business time."""
    if isinstance(value, datetime):
        return clock.business_date(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) > 10:
                return clock.business_date(clock.parse_instant(text))
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"Expected an ISO date such as today(), not {value!r}.")


def _number(value: Any, what: str) -> decimal.Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, not {value!r}.")
    try:
        number = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValueError(f"{what} must be a number, not {value!r}.")
    return number


def add_working_hours(start: Any, hours: Any) -> str:
    """The ISO instant `hours` working hours after `start` (an ISO instant, e.g. `now()`),
    in the time zone `start` was given in: only `calendar.work_hours` on working days count."""
    return _calendar().add_working_hours(_instant(start), _number(hours, "hours")).isoformat()


def add_working_days(day: Any, days: Any) -> str:
    """The ISO date `days` working days after `day` (before it, for negative `days`)."""
    count = _number(days, "days")
    if count != count.to_integral_value():
        raise ValueError(f"days must be a whole number, not {days!r}.")
    if abs(count) > MAX_WORKING_DAYS:  # before int(): 1e999999999 would not fit in memory
        raise ValueError(
            f"days must be from -{MAX_WORKING_DAYS} to {MAX_WORKING_DAYS}, not {days!r}."
        )
    return _calendar().add_working_days(_day(day), int(count)).isoformat()


def is_working_day(day: Any) -> bool:
    """Whether `day` (an ISO date) is a working day of the configured calendar."""
    return _calendar().is_working_day(_day(day))


CRM_HELPERS: dict[str, Any] = {
    "acting_user": acting_user,
    "customer": customer,
    "contract": contract,
    "order": order,
    "record": read_record,
    "round_money": round_money,
    "round_quantity": round_quantity,
    "add_working_hours": add_working_hours,
    "add_working_days": add_working_days,
    "is_working_day": is_working_day,
}
