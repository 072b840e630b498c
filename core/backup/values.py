"""Column values to JSON and back, chosen by the column's type (never by sniffing the value).

Deciding by type keeps a JSON column that holds the string "2026-01-01" a string, and lets a
backup taken on SQLite (naive datetimes, text decimals) load on PostgreSQL and the other way.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, types

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]  # (to JSON, from JSON)


def _same(value: Any) -> Any:
    return value


def _iso(value: Any) -> Any:
    return value.isoformat()


_CODECS: dict[str, Codec] = {
    "plain": (_same, _same),
    "json": (_same, _same),
    "datetime": (_iso, datetime.fromisoformat),
    "date": (_iso, date.fromisoformat),
    "time": (_iso, time.fromisoformat),
    "decimal": (str, Decimal),
    "bytes": (lambda v: base64.b64encode(v).decode("ascii"), base64.b64decode),
    "interval": (lambda v: v.total_seconds(), lambda v: timedelta(seconds=v)),
}


def codec_name(column: Column) -> str:
    column_type = column.type
    if isinstance(column_type, types.TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, types.JSON):
        return "json"
    if isinstance(column_type, types.DateTime):
        return "datetime"
    if isinstance(column_type, types.Date):
        return "date"
    if isinstance(column_type, types.Time):
        return "time"
    if isinstance(column_type, types.Interval):
        return "interval"
    if isinstance(column_type, types.Numeric) and not isinstance(column_type, types.Float):
        return "decimal"
    if isinstance(column_type, types.LargeBinary):
        return "bytes"
    return "plain"


def encoder(column: Column) -> Callable[[Any], Any]:
    to_json = _CODECS[codec_name(column)][0]
    return lambda value: None if value is None else to_json(value)


def decoder(column: Column) -> Callable[[Any], Any]:
    from_json = _CODECS[codec_name(column)][1]
    return lambda value: None if value is None else from_json(value)
