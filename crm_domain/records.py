"""Columns every CRM record shares: optimistic version, custom fields, ownership, timestamps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

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
