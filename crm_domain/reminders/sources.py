"""Which records a rule is due for, on which firing days: one function per rule kind.

Every kind answers the same question in SQL: the (record id, occurrence date) pairs whose
firing day (occurrence minus "days before", or plus "days after") falls in a window of days.
The window, not a single day, is what lets a job catch up after downtime.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import holidays
from sqlalchemy import Select, String, and_, cast, func, select
from sqlalchemy.orm import Session

from core.clock import BUSINESS_TZ, business_date
from core.errors import Invalid
from crm_domain.analytics.models import Segment
from crm_domain.analytics.segments import company_customers_select
from crm_domain.collections import Collection, get_collection
from crm_domain.customers import Customer
from crm_domain.interactions import Interaction
from crm_domain.reminders.models import ReminderRule
from crm_domain.reminders.segment_use import SEGMENT_FILTER
from crm_domain.settings import get_setting


@dataclass(frozen=True)
class Occurrence:
    record_id: int
    occurrence: date  # the date reminded about
    fire_on: date  # the day the reminder is due to be created
    holiday: str | None = None
    # When the follow-up task is due; set by working_days.py (end of work on a working day).
    due_at: datetime | None = None


def shift(rule: ReminderRule) -> int:
    """Days from the firing day to the occurrence: +days before it, -days after it."""
    return rule.days if rule.timing == "before" else -rule.days


def occurrences(session: Session, rule: ReminderRule, first: date, last: date) -> list[Occurrence]:
    """Every occurrence of the rule whose firing day is within [first, last]."""
    if rule.kind == "date_field":
        found = (
            _yearly(session, rule, first, last)
            if rule.yearly
            else _once(session, rule, first, last)
        )
    elif rule.kind == "holiday":
        found = _holidays(session, rule, first, last)
    else:
        found = _no_contact(session, rule, first, last)
    return sorted(found, key=lambda o: (o.fire_on, o.record_id))


def filtered(session: Session, rule: ReminderRule, collection: Collection) -> Select:
    """The rule's records with its filters applied in SQL."""
    model = collection.model
    stmt = select(model.id)
    joined = False
    for key, wanted in (rule.filters or {}).items():
        if key == SEGMENT_FILTER:
            customer_id = model.id if model is Customer else model.customer_id
            stmt = stmt.where(customer_id.in_(segment_customer_ids(session, wanted)))
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        if key.startswith("customer."):
            if not joined:
                stmt = stmt.join(Customer, Customer.id == model.customer_id)
                joined = True
            column = getattr(Customer, key.removeprefix("customer."))
        else:
            column = getattr(model, key)
        stmt = stmt.where(column.in_([_typed(column, v) for v in values]))
    return stmt


def segment_customer_ids(session: Session, segment_id: int) -> Select:
    """The ids of the customers a saved segment picks now, company-wide: the segment's
    definition is read at each evaluation, so a customer who has left the segment (or a
    changed definition) stops the reminders from the next run on."""
    segment = session.get(Segment, segment_id)
    key = f"filters.{SEGMENT_FILTER}"
    if segment is None:  # deleting a segment a rule uses is refused; this is a safety net
        raise Invalid(
            "The rule's segment no longer exists.",
            details={key: [f"There is no segment {segment_id}."]},
        )
    try:
        stmt = company_customers_select(session, segment.definition or {})
    except Invalid as exc:
        raise Invalid(
            f"The segment {segment.name!r} no longer works.",
            details={key: [f"{k}: {' '.join(v)}" for k, v in (exc.details or {}).items()]},
        ) from exc
    # Never correlated with the rule's own query, which may select from `customer` too.
    return stmt.with_only_columns(Customer.id).correlate(None)


def _typed(column, value):
    try:
        kind = column.type.python_type
    except (NotImplementedError, AttributeError):
        return value
    if kind is str:
        return str(value)
    if kind is int and not isinstance(value, bool):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return value


def _date_expression(rule: ReminderRule, collection: Collection):
    """(SQL expression of the rule's date as 'YYYY-MM-DD' text, whether it is a custom field)."""
    model = collection.model
    if rule.date_field.startswith("custom."):
        return model.custom[rule.date_field.removeprefix("custom.")].as_string(), True
    return getattr(model, rule.date_field), False


def _parse(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _once(session: Session, rule: ReminderRule, first: date, last: date) -> Iterator[Occurrence]:
    collection = get_collection(rule.collection)
    column, is_text = _date_expression(rule, collection)
    low, high = first + timedelta(days=shift(rule)), last + timedelta(days=shift(rule))
    bounds = (low.isoformat(), high.isoformat()) if is_text else (low, high)
    stmt = filtered(session, rule, collection).add_columns(column).where(column.between(*bounds))
    for record_id, value in session.execute(stmt):
        occurrence = _parse(value)
        if occurrence is not None:
            yield Occurrence(record_id, occurrence, occurrence - timedelta(days=shift(rule)))


def _anniversary(original: date, year: int) -> date:
    try:
        return original.replace(year=year)
    except ValueError:  # 29 February in a common year: the 28th
        return date(year, 2, 28)


def _yearly(session: Session, rule: ReminderRule, first: date, last: date) -> Iterator[Occurrence]:
    collection = get_collection(rule.collection)
    column, is_text = _date_expression(rule, collection)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    targets = {d + timedelta(days=shift(rule)) for d in days}
    month_days = {t.strftime("%m-%d") for t in targets}
    if "02-28" in month_days:
        month_days.add("02-29")
    text = column if is_text else cast(column, String)
    stmt = (
        filtered(session, rule, collection)
        .add_columns(column)
        .where(func.substr(text, 6, 5).in_(sorted(month_days)))
    )
    for record_id, value in session.execute(stmt):
        original = _parse(value)
        if original is None:
            continue
        for target in sorted(targets):
            if _anniversary(original, target.year) == target and target.year > original.year:
                yield Occurrence(record_id, target, target - timedelta(days=shift(rule)))


@functools.lru_cache(maxsize=32)
def holiday_starts(year: int, country: str = "CN") -> tuple[tuple[date, str, str], ...]:
    """(first day, Chinese name, English name) of each holiday period in a year, in the calendar
    of `country` (the setting calendar.holiday_country; "none": no holidays).

    A period is the public holidays with only a weekend between them, so National Day, the
    weekend and a Mid-Autumn Monday are one greeting ("国庆节、中秋节"), and the days off that a
    holiday brings along (补假 observed days, 调休 substitute days) greet nobody on their own."""
    if country == "none":
        return ()
    zh = holidays.country_holidays(country, years=year, language="zh_CN")
    en = holidays.country_holidays(country, years=year, language="en_US")
    starts: list[tuple[date, str, str]] = []
    previous: date | None = None
    for day in sorted(zh):
        if previous is None or not _weekend_between(previous, day):
            starts.append((day, [], []))
        for names, table in ((starts[-1][1], zh), (starts[-1][2], en)):
            for name in _festival_names(table.get_list(day), en.get_list(day)):
                if name not in names:
                    names.append(name)
        previous = day
    return tuple(
        (day, "、".join(zh_names), " / ".join(en_names))
        for day, zh_names, en_names in starts
        if zh_names
    )


def _weekend_between(earlier: date, later: date) -> bool:
    """Whether only Saturdays and Sundays lie between two days (or nothing at all)."""
    day = earlier + timedelta(days=1)
    while day < later:
        if day.isoweekday() < 6:
            return False
        day += timedelta(days=1)
    return True


def _festival_names(names: list[str], english: list[str]) -> list[str]:
    """The festivals a day off is for: not a substitute day off, names without "observed"."""
    if english and all(name.startswith("Day off") for name in english):
        return []
    return [n.replace("（补假）", "").replace(" (observed)", "").strip() for n in names]


def _holidays(
    session: Session, rule: ReminderRule, first: date, last: date
) -> Iterator[Occurrence]:
    collection = get_collection("customers")
    # The holidays of the administrator's calendar (calendar.holiday_country), as for working
    # days; rules made when China was hard-coded keep working under the default "CN".
    country = get_setting(session, "calendar.holiday_country")
    low, high = first + timedelta(days=shift(rule)), last + timedelta(days=shift(rule))
    starts = [
        (day, f"{zh} {en}")
        for year in range(low.year, high.year + 1)
        for day, zh, en in holiday_starts(year, country)
        if low <= day <= high
    ]
    if not starts:
        return
    record_ids = list(session.scalars(filtered(session, rule, collection)))
    for day, name in starts:
        for record_id in record_ids:
            yield Occurrence(record_id, day, day - timedelta(days=shift(rule)), holiday=name)


def _business_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), BUSINESS_TZ).astimezone(UTC)


def _no_contact(
    session: Session, rule: ReminderRule, first: date, last: date
) -> Iterator[Occurrence]:
    """Customers whose last contact (or, never contacted, their creation) was exactly `days`
    days before a firing day: the day the silence reaches N days is the occurrence."""
    collection = get_collection("customers")
    last_contact = (
        select(Interaction.customer_id, func.max(Interaction.occurred_at).label("at"))
        .group_by(Interaction.customer_id)
        .subquery()
    )
    since = func.coalesce(last_contact.c.at, Customer.created_at)
    low = _business_midnight(first - timedelta(days=rule.days))
    high = _business_midnight(last - timedelta(days=rule.days) + timedelta(days=1))
    stmt = (
        filtered(session, rule, collection)
        .add_columns(since.label("since"))
        .outerjoin(last_contact, last_contact.c.customer_id == Customer.id)
        .where(and_(since >= low, since < high))
    )
    for record_id, at in session.execute(stmt):
        if isinstance(at, str):  # SQLite returns an aggregate of datetimes as text
            at = datetime.fromisoformat(at)
        silent_since = business_date(at)
        occurrence = silent_since + timedelta(days=rule.days)
        yield Occurrence(record_id, occurrence, occurrence)
