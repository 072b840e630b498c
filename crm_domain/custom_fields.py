"""Extra fields per collection, defined by administrators at run time.

A definition is a row holding a field spec in the same format task forms use (forms/), plus
whether it is sensitive. Values live in each record's `custom` JSON and are validated by a
marshmallow schema built from the active definitions, read fresh on every request: a new field
is usable on the very next request in every worker. Archiving a field hides it and stops
validating it; stored values stay in the records.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime
from core.errors import Conflict, Invalid, NotFound
from crm_domain.admin_audit import record_admin_change, snapshot
from crm_domain.custom_references import check_reference_target
from forms.definitions import MAX_PLACES, validate_form_definition
from forms.submission import load_submission


class CustomField(Base):
    __tablename__ = "custom_field"
    __table_args__ = (UniqueConstraint("collection", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(63))
    spec: Mapped[dict] = mapped_column(JsonType)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


CACHE_KEY = "weft.custom_fields"


def active_fields(session: Session, collection: str) -> list[CustomField]:
    cache = session.info.get(CACHE_KEY)
    if cache is not None and collection in cache:
        return cache[collection]
    fields = list(
        session.scalars(
            select(CustomField)
            .where(CustomField.collection == collection, CustomField.archived.is_(False))
            .order_by(CustomField.position, CustomField.id)
        )
    )
    if cache is not None:
        cache[collection] = fields
    return fields


@contextlib.contextmanager
def cached_definitions(session: Session) -> Iterator[None]:
    """Within the block, each collection's definitions are read once (an import's rows, a page
    that counts many saved filters), not once per use."""
    start_cache(session)
    try:
        yield
    finally:
        end_cache(session)


def start_cache(session: Session) -> None:
    """Read each collection's definitions once until `end_cache` (for a bulk import)."""
    session.info[CACHE_KEY] = {}


def end_cache(session: Session) -> None:
    session.info.pop(CACHE_KEY, None)


def list_fields(session: Session, collection: str | None = None, archived: bool = False):
    stmt = select(CustomField).order_by(CustomField.collection, CustomField.position)
    if collection:
        stmt = stmt.where(CustomField.collection == collection)
    if not archived:
        stmt = stmt.where(CustomField.archived.is_(False))
    return list(session.scalars(stmt))


def _checked_spec(spec: Any) -> dict:
    """The spec validated by the same validator as task forms; errors keyed by option."""
    if not isinstance(spec, dict):
        raise Invalid("A field definition is an object.", details={"": ["Must be an object."]})
    try:
        form = validate_form_definition({"key": "custom", "title": "custom", "fields": [spec]})
    except Invalid as exc:
        details = {
            key.removeprefix("fields.0.").removeprefix("fields."): messages
            for key, messages in (exc.details or {}).items()
        }
        raise Invalid("The field definition is invalid.", details=details) from None
    checked = form["fields"][0]
    if isinstance(checked.get("places"), str):
        # Custom values are checked without a session (validate_custom), so a configured
        # precision could not be looked up; task forms take those names.
        message = f"A custom field's places is a whole number from 0 to {MAX_PLACES}."
        raise Invalid("The field definition is invalid.", details={"places": [message]})
    check_reference_target(checked)
    return checked


def define_field(
    session: Session, collection: str, spec: dict, sensitive: bool = False, *, actor: Any = None
):
    checked = _checked_spec(spec)
    existing = session.scalar(
        select(CustomField).where(
            CustomField.collection == collection, CustomField.name == checked["name"]
        )
    )
    if existing is not None and not existing.archived:
        raise Conflict(
            f"{collection} already has a field '{checked['name']}'.",
            details={"name": ["Taken; choose another name or edit that field."]},
        )
    if existing is not None:  # bring an archived field back, with its stored values
        before = _audit_view(existing)
        existing.spec, existing.sensitive, existing.archived = checked, sensitive, False
        existing.updated_at = clock.now()
        session.flush()
        _audit(session, actor, existing, before)
        return existing
    position = session.scalar(
        select(func.coalesce(func.max(CustomField.position), 0)).where(
            CustomField.collection == collection
        )
    )
    field = CustomField(
        collection=collection,
        name=checked["name"],
        spec=checked,
        sensitive=sensitive,
        position=position + 1,
    )
    session.add(field)
    session.flush()
    _audit(session, actor, field, None)
    return field


def get_field(session: Session, field_id: int) -> CustomField:
    field = session.get(CustomField, field_id)
    if field is None:
        raise NotFound(f"Custom field {field_id} does not exist.")
    return field


def change_field(
    session: Session,
    field_id: int,
    spec: dict,
    sensitive: bool | None = None,
    *,
    actor: Any = None,
):
    field = get_field(session, field_id)
    before = _audit_view(field)
    checked = _checked_spec({**spec, "name": field.name})
    field.spec = checked
    if sensitive is not None:
        field.sensitive = sensitive
    field.updated_at = clock.now()
    session.flush()
    _audit(session, actor, field, before)
    return field


def archive_field(session: Session, field_id: int, *, actor: Any = None) -> CustomField:
    field = get_field(session, field_id)
    before = _audit_view(field)
    field.archived = True
    field.updated_at = clock.now()
    session.flush()
    _audit(session, actor, field, before)
    return field


def _audit_view(field: CustomField) -> dict:
    return snapshot(field, exclude=frozenset({"updated_at", "position"}))


def _audit(session: Session, actor: Any, field: CustomField, before: dict | None) -> None:
    target = f"{field.collection}.{field.name}"
    record_admin_change(session, actor, "custom_field", target, before, _audit_view(field))


def validate_custom(
    fields: list[CustomField], values: Any, partial: bool
) -> tuple[dict, dict[str, list[str]]]:
    """(cleaned values, errors keyed `custom.<name>`) for a record's custom values."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return {}, {"custom": ["Must be an object of custom field values."]}
    definition = {"fields": [field.spec for field in fields]}
    try:
        return load_submission(definition, values, partial=partial), {}
    except Invalid as exc:
        return {}, {f"custom.{name}": messages for name, messages in exc.details.items()}
