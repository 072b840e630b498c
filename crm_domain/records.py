"""Columns every CRM record shares (optimistic version, custom fields, ownership, timestamps),
and the shapes a collection's hooks work with (nested child rows, one change)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import JsonType, UtcDateTime


class RecordMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    # Bumped by a compare-and-swap on every update: two editors never silently overwrite.
    version: Mapped[int] = mapped_column(Integer, default=1)
    custom: Mapped[dict] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class OwnedMixin:
    """Records that belong to a person and an org unit, which data scopes are checked against."""

    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)


@dataclass(frozen=True)
class Child:
    """Rows nested in a record's JSON (a quote's `lines`), stored in a table of their own.

    The parent model has a relationship of the same name (cascade delete-orphan) and the
    parent schema a `List(Nested(...))` field; a create or a PATCH that sends the field
    replaces all of them. `references` are checked like `Collection.references`, per row,
    with errors keyed `lines.0.product_id`.
    """

    model: type
    references: dict[str, str | type] = field(default_factory=dict)


@dataclass
class Change:
    """One create or update as a collection's hooks see it (see record_service).

    `values` holds the loaded input; a hook may add derived values to it (they are saved with
    the record) and errors to `errors` (`{field: [messages]}`, reported as one 422).
    """

    session: Session
    actor: Any
    collection: Any
    data: dict
    values: dict
    errors: dict[str, list[str]]
    record: Any = None  # the stored record on update and delete, None on create
    # a record of a collection (name) or model (class) that the actor can see, or None
    find: Callable[[str | type, Any], Any] = lambda target, record_id: None
    # whether the actor's scope for `action` on this collection reaches (owner_id, org_unit_id)
    reaches: Callable[[int | None, int | None], bool] = lambda owner_id, org_unit_id: False

    @property
    def creating(self) -> bool:
        return self.record is None

    def current(self, key: str) -> Any:
        """The value after this change: the new one if sent, else the stored one."""
        if key in self.values:
            return self.values[key]
        return getattr(self.record, key, None)

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)
