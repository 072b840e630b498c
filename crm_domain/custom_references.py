"""Custom fields of type `reference`: what they may point to, and that the record is there.

A reference field names a collection (`{"type": "reference", "collection": "contacts"}`); a
value is the id of a record there. The form validator only checks that it is an id; here the
record must exist and lie within the actor's data scope, as for the built-in references
(`Collection.references`), so a custom field cannot be used to probe or link other branches'
records. People and org units are not scoped records: for them the id must exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import Invalid
from crm_domain.collections import COLLECTIONS
from crm_domain.org import OrgUnit
from crm_domain.users import User

NOT_VISIBLE = "No such record that you can see."
# Reference targets besides the CRM collections: (model, whether it exists is all that counts)
PLAIN_TARGETS: dict[str, type] = {"users": User, "org-units": OrgUnit}


def reference_targets() -> list[str]:
    return sorted([*COLLECTIONS, *PLAIN_TARGETS])


def check_reference_target(spec: dict) -> None:
    """422 on `collection` when a reference field points to something that is not a collection."""
    if spec.get("type") != "reference":
        return
    target = spec.get("collection")
    if target not in COLLECTIONS and target not in PLAIN_TARGETS:
        raise Invalid(
            "The field definition is invalid.",
            details={"collection": [f"No collection '{target}'; use one of: "
                                    f"{', '.join(reference_targets())}."]},
        )  # fmt: skip


def check_custom_references(
    fields: list,
    values: dict,
    stored: dict,
    find: Callable[[str | type, Any], Any],
    errors: dict[str, list[str]],
) -> None:
    """Add `custom.<name>` errors for reference values that name no record the actor can see.

    `find(target, id)` is record_service.find_visible bound to the actor; values equal to the
    stored ones are not re-checked (a record that moved out of scope does not block other edits).
    """
    for field in fields:
        spec = field.spec
        if spec.get("type") != "reference" or field.name not in values:
            continue
        value = values[field.name]
        key = f"custom.{field.name}"
        if value is None or key in errors or stored.get(field.name) == value:
            continue
        target = spec.get("collection")
        found = find(PLAIN_TARGETS.get(target, target), value) if target else None
        if found is None:
            errors[key] = [NOT_VISIBLE]
