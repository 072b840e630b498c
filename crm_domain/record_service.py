"""List, read, create, change and delete CRM records of any collection, always within scope.

Every query starts from `scoped_select`, which puts the actor's data scope into the SQL: a
record outside it is not found (404), not forbidden, so ids cannot be probed.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError
from sqlalchemy import Select, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import clock
from core.errors import Conflict, Forbidden, Invalid, NotFound
from crm_domain import audit, custom_fields, webhooks
from crm_domain.access import Actor, reaches, required_scope, scope_clause
from crm_domain.collections import COLLECTIONS, Collection, get_collection
from crm_domain.custom_references import check_custom_references
from crm_domain.records import Change
from crm_domain.unique_violations import ALREADY_USED, refused_fields
from crm_domain.users import User

MAX_PER_PAGE = 200
SYSTEM_FIELDS = ("id", "version", "created_at", "updated_at", "created_by_id")
OWNER_FIELDS = ("owner_id", "org_unit_id")
SENSITIVE_FILTER = "Filtering by a sensitive field needs the 'view_sensitive' permission."
PENDING_CREATES = "weft.pending_creates"


@functools.lru_cache(maxsize=256)
def _schema(schema_class: type[Schema], unknown: str | None = None) -> Schema:
    """One instance per schema class: building a schema deep-copies its fields (slow in bulk).
    Instances hold no per-call state (marshmallow 4 has no context), so sharing is safe."""
    return schema_class(unknown=unknown) if unknown else schema_class()


def scoped_select(actor: Actor, collection: Collection, action: str = "read") -> Select:
    scope = required_scope(actor, collection.name, action)
    stmt = select(collection.model)
    if collection.owned:
        stmt = stmt.where(scope_clause(collection.model, actor, scope))
    return stmt


def _searchable(actor: Actor, collection: Collection) -> list[str]:
    sensitive_ok = actor.rights.has_grant("view_sensitive")
    return [c for c in collection.search if sensitive_ok or c not in collection.sensitive]


def list_records(
    session: Session,
    actor: Actor,
    name: str,
    *,
    q: str | None = None,
    filters: dict[str, str] | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list, int]:
    collection = get_collection(name)
    stmt = filtered_select(session, actor, collection, q=q, filters=filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    stmt = stmt.order_by(*_order(session, actor, collection, sort))
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    rows = session.scalars(stmt.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return list(rows), total


def filtered_select(
    session: Session,
    actor: Actor,
    collection: Collection,
    *,
    q: str | None = None,
    filters: dict[str, str] | None = None,
) -> Select:
    active = custom_fields.active_fields(session, collection.name)
    return _searched(
        scoped_select(actor, collection),
        collection,
        q,
        filters,
        active,
        searchable=_searchable(actor, collection),
        hidden=_hidden_fields(actor, collection, active),
    )


def company_filtered_select(
    session: Session,
    collection: Collection,
    *,
    q: str | None = None,
    filters: dict[str, str] | None = None,
) -> Select:
    """The same search and filters over every record, with no person's data scope: for
    company-wide jobs such as an administrator's reminder rule run by the scheduler, whose
    reminders go to each record's own people. Never for showing records to someone."""
    active = custom_fields.active_fields(session, collection.name)
    stmt = select(collection.model)
    return _searched(stmt, collection, q, filters, active, list(collection.search), set())


def _searched(
    stmt: Select,
    collection: Collection,
    q: str | None,
    filters: dict[str, str] | None,
    active: list,
    searchable: list[str],
    hidden: set[str],
) -> Select:
    model = collection.model
    if q and q.strip():
        # `%` and `_` typed by the user are literal characters, not LIKE wildcards.
        literal = re.sub(r"([\\%_])", r"\\\1", q.strip().lower())
        needle = f"%{literal}%"
        columns = [getattr(model, c) for c in searchable]
        stmt = stmt.where(or_(*(func.lower(col).like(needle, escape="\\") for col in columns)))
    errors: dict[str, list[str]] = {}
    custom_specs = {f.name: f.spec for f in active}
    for key, raw in (filters or {}).items():
        if key in hidden:  # equality on a masked value would reveal it, one guess at a time
            errors[key] = [SENSITIVE_FILTER]
        elif key.startswith("custom."):
            spec = custom_specs.get(key.removeprefix("custom."))
            if spec is None:
                errors[key] = ["No such custom field."]
                continue
            stmt = stmt.where(_custom_equals(model, spec, raw, errors, key))
        elif key in collection.filters:
            stmt = stmt.where(_column_equals(getattr(model, key), raw, errors, key))
        else:
            errors[key] = ["Unknown filter."]
    if errors:
        raise Invalid("Some filters are not valid.", details=errors)
    return stmt


def _hidden_fields(actor: Actor, collection: Collection, active: list) -> set[str]:
    """Fields masked for this actor: they may not filter or sort by them either."""
    if actor.rights.has_grant("view_sensitive"):
        return set()
    return {*collection.sensitive, *(f"custom.{f.name}" for f in active if f.sensitive)}


def _column_equals(column, raw: str, errors: dict, key: str):
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = str
    try:
        if kind is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            value: Any = raw.lower() in ("true", "1")
        elif kind is int:
            value = int(raw)
        elif kind is Decimal:
            value = Decimal(raw)
        else:
            value = raw
    except (ValueError, ArithmeticError):
        errors[key] = [f"Not a valid {kind.__name__}."]
        return true()
    return column == value


def _custom_equals(model, spec: dict, raw: str, errors: dict, key: str):
    element = model.custom[spec["name"]]
    try:
        if spec["type"] == "integer":
            return element.as_integer() == int(raw)
        if spec["type"] == "decimal":
            return element.as_float() == float(raw)
        if spec["type"] == "boolean":
            return element.as_boolean().is_(raw.lower() in ("true", "1"))
    except ValueError:
        errors[key] = ["Not a valid number."]
        return true()
    return element.as_string() == raw


def _order(session: Session, actor: Actor, collection: Collection, sort: str | None) -> list:
    model = collection.model
    if not sort:
        return [model.id.desc()]
    order, errors = [], []
    active = custom_fields.active_fields(session, collection.name)
    hidden = _hidden_fields(actor, collection, active)
    custom_names = {f.name for f in active if f"custom.{f.name}" not in hidden}
    for part in sort.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.lstrip("-+")
        if name.startswith("custom.") and name.removeprefix("custom.") in custom_names:
            column = model.custom[name.removeprefix("custom.")].as_string()
        elif name in collection.sortable:
            column = getattr(model, name)
        else:
            errors.append(name)
            continue
        order.append(column.desc() if descending else column.asc())
    if errors:
        allowed = ", ".join(collection.sortable)
        raise Invalid(
            "Unknown sort key.",
            details={"sort": [f"Cannot sort by {', '.join(errors)}; use {allowed}."]},
        )
    return [*order, model.id.asc()]


def get_record(session: Session, actor: Actor, name: str, record_id: int, action="read"):
    collection = get_collection(name)
    record = session.scalar(
        scoped_select(actor, collection, action).where(collection.model.id == record_id)
    )
    if record is None:
        if action != "read" and _readable(session, actor, collection, record_id):
            raise Forbidden(f"You may read this record but not {action} it.")
        raise NotFound(f"There is no {name} record {record_id} that you can see.")
    return record


def _readable(session: Session, actor: Actor, collection: Collection, record_id: int) -> bool:
    if actor.rights.scope(collection.name, "read") is None:
        return False
    stmt = scoped_select(actor, collection).where(collection.model.id == record_id)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) > 0


def _load(collection: Collection, data: dict, partial: bool) -> tuple[dict, dict]:
    fields = {k: v for k, v in data.items() if k not in ("custom", *OWNER_FIELDS, "version")}
    schema = _schema(collection.schema, RAISE)
    if partial:  # a PATCH may leave fields out; nested child rows, when sent, are sent whole
        partial = tuple(
            name for name in schema.fields if name not in collection.children or name not in fields
        )
    try:
        return schema.load(fields, partial=partial), {}
    except ValidationError as exc:  # the valid part still gets its references checked
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, _flat_errors(exc.normalized_messages())


def _flat_errors(messages: dict, path: str = "") -> dict[str, list]:
    """Nested marshmallow errors keyed by field path: {"lines": {0: {"quantity": [..]}}} →
    {"lines.0.quantity": [..]}; a nested row's own errors go to its path ("lines.0")."""
    flat: dict[str, list] = {}
    for key, value in messages.items():
        here = path if key == "_schema" and path else f"{path}.{key}" if path else str(key)
        if isinstance(value, dict):
            for sub_key, sub_messages in _flat_errors(value, here).items():
                flat.setdefault(sub_key, []).extend(sub_messages)
        else:
            flat.setdefault(here, []).extend(value if isinstance(value, list) else [value])
    return flat


def create_record(session: Session, actor: Actor, name: str, data: Any, *, batch: bool = False):
    """Validate and add a record; audit entry and webhook event follow its INSERT.

    With `batch=True` (bulk imports) the INSERT waits for `flush_batch`, which flushes the
    batch's records together and then writes their audit entries and events, in order.
    """
    collection = get_collection(name)
    required_scope(actor, name, "create")
    data = _object(data)
    values, errors = _load(collection, data, partial=False)
    fields = custom_fields.active_fields(session, name)
    raw_custom = data.get("custom", {})
    if isinstance(raw_custom, dict):  # fields left out take their defaults
        defaults = {f.name: f.spec["default"] for f in fields if f.spec.get("default") is not None}
        raw_custom = {**defaults, **raw_custom}
    custom, custom_errors = custom_fields.validate_custom(fields, raw_custom, partial=False)
    errors.update(custom_errors)
    _check_custom_references(session, actor, fields, custom, {}, errors)
    change = _change(session, actor, collection, data, values, errors)
    _apply_rules(change, check_unique=not batch)
    ownership = {}
    if not errors:
        ownership = (
            collection.owner(change)
            if collection.owned and collection.owner
            else _ownership(session, actor, collection, data, values, errors)
        )
    if errors:
        raise Invalid(f"The {name} record is not valid.", details=errors)
    now = clock.now()
    record = collection.model(
        **_with_children(collection, values),
        **ownership,
        custom=custom,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    if collection.derive:
        collection.derive(record)
    session.add(record)
    if batch and not collection.after_save:  # a hook needs the row now: no batching then
        session.info.setdefault(PENDING_CREATES, []).append((actor.id, name, record))
        return record
    _flush(session, name)
    _created(session, actor.id, name, record)
    if collection.after_save:
        collection.after_save(change, record)
    return record


def _flush(session: Session, name: str) -> None:
    """Flush, turning a constraint that a concurrent write broke into a clear error (not a
    500): a unique field taken meanwhile is a 422 on that field, as the check before it would
    have said; anything else a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        collection = get_collection(name)
        taken = refused_fields(exc, collection.model.__tablename__, collection.unique)
        if taken:
            raise Invalid(
                f"The {name} record is not valid.",
                details={field: [ALREADY_USED] for field in taken},
            ) from None
        raise Conflict(
            f"The {name} record conflicts with one saved meanwhile; reload and try again."
        ) from None


def _created(session: Session, actor_id: int | None, name: str, record) -> None:
    collection = get_collection(name)
    audit.record_change(
        session, name, record.id, "create", actor_id, audit.diff({}, snapshot(record, collection))
    )
    webhooks.record_event(session, name, "created", lambda: to_dict(session, None, name, record))


def flush_batch(session: Session) -> None:
    """INSERT the records created with `batch=True` (a few statements), then audit them."""
    pending = session.info.pop(PENDING_CREATES, [])
    session.flush()
    for actor_id, name, record in pending:
        _created(session, actor_id, name, record)


def discard_batch(session: Session) -> None:
    """Forget pending batch creates (after a rollback)."""
    session.info.pop(PENDING_CREATES, None)


def _object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", details={"": ["Must be an object."]})
    return data


def _ownership(session, actor, collection, data, values, errors) -> dict:
    """owner_id/org_unit_id for a new record: from its parent record, the request, or the actor."""
    if not collection.owned:
        return {}
    if collection.parent:
        key, parent_name = collection.parent
        parent = session.scalar(
            scoped_select(actor, get_collection(parent_name)).where(
                get_collection(parent_name).model.id == values[key]
            )
        )
        if parent is None:
            errors[key] = ["No such record that you can see."]
            return {}
        return {"owner_id": parent.owner_id, "org_unit_id": parent.org_unit_id}
    owner_id = data.get("owner_id", actor.id)
    if owner_id == actor.id:
        return {
            "owner_id": actor.id,
            "org_unit_id": data.get("org_unit_id", actor.user.org_unit_id),
        }
    owner = session.get(User, owner_id) if isinstance(owner_id, int) else None
    if owner is None:
        errors["owner_id"] = ["No such user."]
        return {}
    if actor.rights.scope(collection.name, "create") == "own":
        errors["owner_id"] = ["You may only create records that you own."]
        return {}
    return {"owner_id": owner.id, "org_unit_id": data.get("org_unit_id", owner.org_unit_id)}


def snapshot(record, collection: Collection) -> dict:
    fields = _schema(collection.schema).fields
    names = [*fields, *OWNER_FIELDS] if collection.owned else [*fields]
    values = {name: getattr(record, name, None) for name in names}
    for name in collection.children:  # child rows as the API shows them
        values[name] = fields[name].serialize(name, record)
    values.update({f"custom.{k}": v for k, v in (record.custom or {}).items()})
    return values


def update_record(
    session: Session,
    actor: Actor,
    name: str,
    record_id: int,
    data: Any,
    expected_version: int | None,
    *,
    batch: bool = False,
):
    """Change a record if it is still at `expected_version` (compare-and-swap), with audit.

    With `batch=True` (bulk imports) the row's UPDATE is left to the next flush
    (`flush_batch`); the version is claimed at once all the same.
    """
    collection = get_collection(name)
    record = get_record(session, actor, name, record_id, "update")
    data = _object(data)
    if expected_version is None:
        raise Invalid(
            "Say which version you edited, so that nobody's change is overwritten.",
            details={"version": ["Send the record's version (or an If-Match header)."]},
        )
    values, errors = _load(collection, data, partial=True)
    for key in collection.parent[:1] if collection.parent else ():
        if key in values and values[key] != getattr(record, key):
            errors[key] = ["A record cannot move to another parent."]
    for key in collection.immutable:
        if key in values and values[key] != getattr(record, key):
            errors[key] = ["This cannot change once the record is saved."]
    fields = custom_fields.active_fields(session, name)
    custom, custom_errors = custom_fields.validate_custom(fields, data.get("custom"), True)
    errors.update(custom_errors)
    _check_custom_references(session, actor, fields, custom, record.custom or {}, errors)
    change = _change(session, actor, collection, data, values, errors, record)
    _apply_rules(change, check_unique=not batch)
    owner = _new_owner(session, actor, collection, data, errors)
    if errors:
        raise Invalid(f"The {name} record is not valid.", details=errors)
    if record.version != expected_version:
        raise _stale(record)
    before = snapshot(record, collection)
    swapped = session.execute(
        update(collection.model)
        .where(collection.model.id == record.id, collection.model.version == expected_version)
        .values(version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if swapped.rowcount != 1:
        session.expire(record)
        raise _stale(record)
    for key, value in {**_with_children(collection, values), **owner}.items():
        setattr(record, key, value)
    if custom:
        record.custom = {**(record.custom or {}), **custom}
    record.version = expected_version + 1
    record.updated_at = clock.now()
    if collection.derive:
        collection.derive(record)
    if not batch:
        _flush(session, name)
    if collection.after_save:
        collection.after_save(change, record)
    changes = audit.diff(before, snapshot(record, collection))
    audit.record_change(session, name, record.id, "update", actor.id, changes)
    webhooks.record_event(session, name, "updated", lambda: to_dict(session, None, name, record))
    return record


def _stale(record) -> Conflict:
    return Conflict(
        "Someone else changed this record after you loaded it. Reload it and apply your change "
        "again.",
        details={"current_version": record.version},
    )


def _new_owner(session, actor, collection, data, errors) -> dict:
    if not collection.owned or collection.parent or collection.owner or "owner_id" not in data:
        return {}
    if actor.rights.scope(collection.name, "update") == "own":
        errors["owner_id"] = ["You may not hand records to someone else."]
        return {}
    owner = session.get(User, data["owner_id"]) if isinstance(data["owner_id"], int) else None
    if owner is None:
        errors["owner_id"] = ["No such user."]
        return {}
    return {"owner_id": owner.id, "org_unit_id": data.get("org_unit_id", owner.org_unit_id)}


def delete_record(
    session: Session, actor: Actor, name: str, record_id: int, expected_version: int | None
) -> None:
    collection = get_collection(name)
    record = get_record(session, actor, name, record_id, "delete")
    if expected_version is not None and record.version != expected_version:
        raise _stale(record)
    before = snapshot(record, collection)
    if collection.before_delete:
        collection.before_delete(_change(session, actor, collection, {}, {}, {}, record), record)
    session.delete(record)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a foreign key says other records still use it
        raise Conflict(
            f"This {name} record is still used by other records; remove those first."
        ) from None
    audit.record_change(session, name, record_id, "delete", actor.id, audit.diff(before, {}))
    deleted = {key: audit.plain(value) for key, value in before.items()}
    webhooks.record_event(session, name, "deleted", lambda: {"id": record_id, **deleted})


# --- rules and hooks a collection declares (see Collection in crm_domain/collections.py) ---


def _change(session, actor, collection, data, values, errors, record=None) -> Change:
    scope = actor.rights.scope(collection.name, "update" if record is not None else "create")
    return Change(
        session=session,
        actor=actor,
        collection=collection,
        data=data,
        values=values,
        errors=errors,
        record=record,
        find=lambda target, record_id: find_visible(session, actor, target, record_id),
        reaches=lambda owner_id, unit_id: (
            scope is not None and reaches(session, actor, scope, owner_id, unit_id)
        ),
    )


def find_visible(session: Session, actor: Actor, target: str | type, record_id: Any):
    """The record of collection `target` with this id if the actor may read it (for a model
    class instead of a collection name: if it exists), else None."""
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        return None
    if not isinstance(target, str):
        return session.get(target, record_id)
    collection = COLLECTIONS.get(target)
    if collection is None or actor.rights.scope(target, "read") is None:
        return None
    return session.scalar(scoped_select(actor, collection).where(collection.model.id == record_id))


def _check_custom_references(session, actor, fields, custom, stored, errors) -> None:
    if any(field.spec.get("type") == "reference" for field in fields):
        check_custom_references(
            fields,
            custom,
            stored,
            lambda target, record_id: find_visible(session, actor, target, record_id),
            errors,
        )


def _apply_rules(change: Change, check_unique: bool = True) -> None:
    """References, uniqueness, child-row references, then the collection's own `check`.

    Bulk imports (`batch`) leave out the per-row uniqueness query: the importer has looked up
    every key of the file at once (and refused keys repeated in it), and the unique constraint
    catches a key saved meanwhile, reported on its field all the same.
    """
    collection, values, errors, record = (
        change.collection,
        change.values,
        change.errors,
        change.record,
    )
    for key, target in collection.references.items():
        value = values.get(key)
        if value is None or key in errors or (record is not None and getattr(record, key) == value):
            continue
        if change.find(target, value) is None:
            errors[key] = ["No such record that you can see."]
    for name, child in collection.children.items():
        for index, row in enumerate(values.get(name) or []):
            for key, target in child.references.items():
                if row.get(key) is not None and change.find(target, row[key]) is None:
                    errors[f"{name}.{index}.{key}"] = ["No such record that you can see."]
    model = collection.model
    for key in collection.unique if check_unique else ():
        value = values.get(key)
        if value is None or key in errors or (record is not None and getattr(record, key) == value):
            continue
        taken = select(model.id).where(getattr(model, key) == value)
        if record is not None:
            taken = taken.where(model.id != record.id)
        if change.session.scalar(taken.limit(1)) is not None:
            errors[key] = [ALREADY_USED]
    if collection.check and not errors:
        collection.check(change)


def _with_children(collection: Collection, values: dict) -> dict:
    """`values` with nested child rows (dicts) turned into rows of the child model."""
    if not collection.children:
        return values
    built = dict(values)
    for name, child in collection.children.items():
        if name in built:
            built[name] = [child.model(**row) for row in built[name] or []]
    return built


def mask(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    return "*" * max(len(text) - 4, 4) + text[-4:] if len(text) > 4 else "****"


def to_dicts(session: Session, actor: Actor, name: str, records) -> list[dict]:
    fields = custom_fields.active_fields(session, name)
    return [to_dict(session, actor, name, record, fields) for record in records]


def to_dict(session: Session, actor: Actor | None, name: str, record, fields=None) -> dict:
    """The record as the API returns it; `actor=None` means unmasked (for webhooks)."""
    collection = get_collection(name)
    body = _schema(collection.schema).dump(record)
    body.update({key: getattr(record, key) for key in SYSTEM_FIELDS})
    if collection.owned:
        body.update({key: getattr(record, key) for key in OWNER_FIELDS})
    if fields is None:
        fields = custom_fields.active_fields(session, name)
    stored = record.custom or {}
    body["custom"] = {f.name: stored.get(f.name) for f in fields}
    if actor is not None and not actor.rights.has_grant("view_sensitive"):
        for key in collection.sensitive:
            body[key] = mask(body.get(key))
        for field in fields:
            if field.sensitive:
                body["custom"][field.name] = mask(body["custom"][field.name])
    return {key: audit.plain(value) for key, value in body.items()}
