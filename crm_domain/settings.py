"""System settings: typed, validated rows an administrator changes without a restart.

Each setting has a key, a default and a validator (see `SETTINGS`). Only values that differ from
the default are stored, one `system_setting` row per key. Every change also writes a fresh random
stamp into `system_settings_version`; readers keep a process-wide copy of all values keyed by that
stamp and re-read the one stamp row on every call, so a worker sees a change on its next request
and never serves values from memory without checking the database first. A random stamp (not a
counter) also stays correct after a restore brings in another database's rows.

    get_setting(session, "money.decimal_places")  -> 2
"""

from __future__ import annotations

import functools
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.clock import BUSINESS_TZ
from core.db import Base, JsonType, UtcDateTime
from core.errors import Invalid, NotFound

LANGUAGES = ("zh-CN", "en")
HOLIDAY_COUNTRIES = ("CN", "none")  # "none": no public holidays (null resets to "CN")
_HOUR_MINUTE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SystemSetting(Base):
    __tablename__ = "system_setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JsonType, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SettingsVersion(Base):
    """One row (id 1): the stamp of the current settings; changes with every write."""

    __tablename__ = "system_settings_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


# --- validators: each returns the normalized value or raises ValueError with the reason -------


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Must be a whole number from {low} to {high}.")
        if not low <= value <= high:
            raise ValueError(f"Must be from {low} to {high}.")
        return value

    return check


def _work_days(value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise ValueError("Must be a non-empty list of ISO weekdays (1 = Monday … 7 = Sunday).")
    if any(isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7 for day in value):
        raise ValueError("Each work day must be a number from 1 (Monday) to 7 (Sunday).")
    return sorted(set(value))


def _work_hours(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise ValueError('Must be {"start": "HH:MM", "end": "HH:MM"}.')
    start, end = value["start"], value["end"]
    if not all(isinstance(item, str) and _HOUR_MINUTE.match(item) for item in (start, end)):
        raise ValueError("Times must be HH:MM in 24-hour form, e.g. 09:00.")
    if start >= end:
        raise ValueError("The working day must end after it starts.")
    return {"start": start, "end": end}


def _dates(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("Must be a list of dates (YYYY-MM-DD).")
    days = set()
    for item in value:
        try:
            days.add(date.fromisoformat(item).isoformat())
        except (TypeError, ValueError):
            raise ValueError(f"Not a date (YYYY-MM-DD): {item!r}.") from None
    return sorted(days)


def _holiday_country(value: Any) -> str:
    if value not in HOLIDAY_COUNTRIES:
        raise ValueError(f"Must be one of {', '.join(HOLIDAY_COUNTRIES)}.")
    return value


def _smtp_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise ValueError("Must be an smtp:// or smtps:// URL of at most 500 characters.")
    parsed = urlparse(value)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ValueError("Must look like smtp://user:password@host:587?from=crm@example.com.")
    return value


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"Must be one of {', '.join(LANGUAGES)}.")
    return value


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: str  # for the console: integer, weekdays, hours, dates, choice, url
    default: Any
    check: Callable[[Any], Any]
    label_zh: str
    label_en: str
    secret: bool = False  # shown masked in the API and the audit log


SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "money.decimal_places",
            "integer",
            2,
            _int_between(0, 4),
            "金额小数位数",
            "Decimal places for money amounts",
        ),
        SettingSpec(
            "quantity.decimal_places",
            "integer",
            3,
            _int_between(0, 3),
            "数量小数位数",
            "Decimal places for quantities",
        ),
        SettingSpec(
            "reminders.lead_days_default",
            "integer",
            1,
            _int_between(0, 365),
            "提醒默认提前天数",
            "Default reminder lead time in days",
        ),
        SettingSpec(
            "calendar.work_days",
            "weekdays",
            [1, 2, 3, 4, 5],
            _work_days,
            "工作日(周一=1)",
            "Work days (ISO weekdays, Monday = 1)",
        ),
        SettingSpec(
            "calendar.work_hours",
            "hours",
            {"start": "09:00", "end": "18:00"},
            _work_hours,
            "工作时间",
            "Working hours",
        ),
        SettingSpec(
            "calendar.holiday_country",
            "choice",
            "CN",
            _holiday_country,
            "法定节假日(国家, none=不用)",
            "Public holidays of country (none: no holidays)",
        ),
        SettingSpec(
            "calendar.extra_holidays",
            "dates",
            [],
            _dates,
            "额外休息日",
            "Extra days off (company holidays)",
        ),
        SettingSpec(
            "calendar.extra_workdays",
            "dates",
            [],
            _dates,
            "额外工作日(调休)",
            "Extra working days (make-up days)",
        ),
        SettingSpec(
            "email.smtp_url",
            "url",
            None,
            _smtp_url,
            "SMTP 地址(覆盖 WEFT_SMTP_URL)",
            "SMTP URL (overrides WEFT_SMTP_URL)",
            secret=True,
        ),
        SettingSpec(
            "ui.default_language",
            "choice",
            "zh-CN",
            _language,
            "默认语言",
            "Default language",
        ),
    )
}


# --- reading ---------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, dict[str, Any]] = {}  # stamp -> stored values; only the newest stamp is kept


def settings_stamp(session: Session) -> str | None:
    """The database's current settings stamp (None before the first change)."""
    return session.scalar(select(SettingsVersion.stamp).where(SettingsVersion.id == 1))


def _stored_values(session: Session) -> dict[str, Any]:
    stamp = settings_stamp(session)
    if stamp is not None:
        with _cache_lock:
            cached = _cache.get(stamp)
        if cached is not None:
            return cached
    values = {row.key: row.value for row in session.scalars(select(SystemSetting))}
    # Cache only when no change was committed between the two reads (READ COMMITTED).
    if stamp is not None and settings_stamp(session) == stamp:
        with _cache_lock:
            _cache.clear()
            _cache[stamp] = values
    return values


def _spec(key: str) -> SettingSpec:
    spec = SETTINGS.get(key)
    if spec is None:
        raise NotFound(f"No setting '{key}'.", details={key: ["Unknown setting."]})
    return spec


def get_setting(session: Session, key: str) -> Any:
    """The current value of one setting (its default when never changed)."""
    _spec(key)
    return _value_of(_stored_values(session), key)


def _value_of(stored: dict[str, Any], key: str) -> Any:
    spec = SETTINGS[key]
    if key not in stored:
        return _copy(spec.default)
    try:  # a row written by an older release may no longer validate: fall back, never crash
        return spec.check(_copy(stored[key]))
    except ValueError:
        return _copy(spec.default)


def all_settings(session: Session) -> dict[str, Any]:
    return {key: get_setting(session, key) for key in SETTINGS}


def describe_settings(session: Session) -> list[dict[str, Any]]:
    """Every setting with its value, default and labels, for the admin API and console."""
    stored = _stored_values(session)
    rows = []
    for key, spec in SETTINGS.items():
        value = get_setting(session, key)
        rows.append(
            {
                "key": key,
                "value": _shown(spec, value),
                "default": _shown(spec, spec.default),
                "is_default": key not in stored,
                "kind": spec.kind,
                "label": {"zh-CN": spec.label_zh, "en": spec.label_en},
            }
        )
    return rows


def _shown(spec: SettingSpec, value: Any) -> Any:
    if spec.secret and isinstance(value, str):
        parsed = urlparse(value)
        if parsed.password:
            return value.replace(f":{parsed.password}@", ":***@", 1)
    return value


def _copy(value: Any) -> Any:
    # Callers may mutate what they get; the cache and the defaults must not change with it.
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


# --- writing ---------------------------------------------------------------------------------


def update_settings(session: Session, actor: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate and store several settings at once (all or nothing); null resets to default.

    Returns the settings after the change. Records one admin-audit entry per changed key.
    """
    from crm_domain.admin_audit import record_admin_change

    if not isinstance(changes, dict) or not changes:
        raise Invalid("Give at least one setting to change.", details={"_schema": ["Empty."]})
    errors: dict[str, list[str]] = {}
    normalized: dict[str, Any] = {}
    for key, value in changes.items():
        spec = SETTINGS.get(key)
        if spec is None:
            errors[key] = ["Unknown setting."]
            continue
        if value is None:
            normalized[key] = None
            continue
        try:
            normalized[key] = spec.check(value)
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise Invalid("Some settings are not valid.", details=errors)

    actor_id = getattr(actor, "id", None)
    changed = False
    for key, value in normalized.items():
        spec = SETTINGS[key]
        before = get_setting(session, key)
        row = session.get(SystemSetting, key)
        if value is None or value == spec.default:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(SystemSetting(key=key, value=value, updated_by=actor_id))
        else:
            row.value, row.updated_at, row.updated_by = value, clock.now(), actor_id
        after = spec.default if value is None else value
        if before != after:
            changed = True
            record_admin_change(
                session, actor, "setting", key, _shown(spec, before), _shown(spec, after)
            )
    if changed:
        _bump_stamp(session)
    session.flush()
    return all_settings(session)


def _bump_stamp(session: Session) -> None:
    stamp = uuid.uuid4().hex
    session.flush()
    updated = session.execute(
        update(SettingsVersion)
        .where(SettingsVersion.id == 1)
        .values(stamp=stamp, changed_at=clock.now())
    ).rowcount
    if not updated:
        session.add(SettingsVersion(id=1, stamp=stamp, changed_at=clock.now()))
    session.flush()


# --- the working calendar --------------------------------------------------------------------
# Days and hours are those of the business calendar (China time, `BUSINESS_TZ`): "09:00 to
# 18:00 on working days" means the company's clock, whatever time zone an instant arrives in.

MAX_SCAN_DAYS = 3660  # ten years: further than any deadline; stops a calendar with no way out
MAX_WORKING_DAYS = MAX_SCAN_DAYS  # the most `add_working_days` counts, either way


@functools.lru_cache(maxsize=64)
def _public_holidays(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, make-up working days) of a country's calendar, from the `holidays` package.

    Cached per (country, year): the package's tables do not change while a process runs.
    """
    import holidays

    calendar = holidays.country_holidays(country, years=year)
    workdays = {day for day in getattr(calendar, "weekend_workdays", set()) if day.year == year}
    return frozenset(calendar.keys()), frozenset(workdays)


@dataclass(frozen=True)
class WorkingCalendar:
    """The calendar settings read once, for computations that look at many days."""

    work_days: frozenset[int]
    opens: time
    closes: time
    holiday_country: str
    extra_holidays: frozenset[date]
    extra_workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        """Company make-up days first, then company days off, then the country's calendar
        (days off, then make-up working days 调休), then the work days of the week."""
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if self.holiday_country != "none":
            days_off, make_up_days = _public_holidays(self.holiday_country, day.year)
            if day in make_up_days:
                return True
            if day in days_off:
                return False
        return day.isoweekday() in self.work_days

    def _step_to_working_day(self, day: date, step: int) -> date:
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=step)
        raise ValueError("No working day within ten years: check the calendar settings.")

    def on_or_before(self, day: date) -> date:
        """`day` itself when it is a working day, else the working day before it."""
        return self._step_to_working_day(day, -1)

    def on_or_after(self, day: date) -> date:
        """`day` itself when it is a working day, else the next working day."""
        return self._step_to_working_day(day, 1)

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (before it, for negative `days`)."""
        if abs(days) > MAX_WORKING_DAYS:  # each day is a calendar look-up: keep the loop short
            raise ValueError(
                f"Add at most {MAX_WORKING_DAYS} working days either way (ten years), not {days}."
            )
        step = 1 if days >= 0 else -1
        current = start
        for _ in range(abs(days)):
            current = self._step_to_working_day(current + timedelta(days=step), step)
        return current

    def closing_time(self, day: date) -> datetime:
        """When work ends on `day` (business time zone)."""
        return datetime.combine(day, self.closes, BUSINESS_TZ)

    def add_working_hours(self, start: datetime, hours: float | int | Decimal) -> datetime:
        """The instant `hours` working hours after `start`, in `start`'s time zone.

        Only the working hours of working days count: from a start outside them, counting
        begins when work next begins. A deadline that uses up a day exactly is due at its
        closing time, not at the next day's opening.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("The start must be timezone-aware (e.g. 2026-10-09T17:00:00+08:00).")
        remaining = timedelta(hours=float(hours))
        if remaining < timedelta(0):
            raise ValueError("Working hours to add must not be negative.")
        if not remaining:
            return start
        moment = start.astimezone(BUSINESS_TZ)
        day = moment.date()
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, BUSINESS_TZ)
                closes = self.closing_time(day)
                begin = max(moment, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= closes - begin
            day += timedelta(days=1)
        raise ValueError("The deadline lies more than ten years ahead: check the hours.")


def working_calendar(session: Session) -> WorkingCalendar:
    """The current calendar settings (one read of the settings, as `get_setting` does)."""
    stored = _stored_values(session)
    hours = _value_of(stored, "calendar.work_hours")
    return WorkingCalendar(
        work_days=frozenset(_value_of(stored, "calendar.work_days")),
        opens=time.fromisoformat(hours["start"]),
        closes=time.fromisoformat(hours["end"]),
        holiday_country=_value_of(stored, "calendar.holiday_country"),
        extra_holidays=frozenset(
            map(date.fromisoformat, _value_of(stored, "calendar.extra_holidays"))
        ),
        extra_workdays=frozenset(
            map(date.fromisoformat, _value_of(stored, "calendar.extra_workdays"))
        ),
    )


def is_working_day(session: Session, day: date) -> bool:
    """Is `day` a working day? Company make-up days first, then days off, then work days."""
    return working_calendar(session).is_working_day(day)


def add_working_days(session: Session, start: date, days: int) -> date:
    """The date `days` working days after `start` (before it, for negative `days`)."""
    return working_calendar(session).add_working_days(start, days)


def add_working_hours(session: Session, start: datetime, hours: float | int | Decimal) -> datetime:
    """The instant `hours` working hours (`calendar.work_hours` on working days) after
    `start`, in `start`'s time zone: 8 hours from Friday 17:00 is Monday 16:00."""
    return working_calendar(session).add_working_hours(start, hours)
