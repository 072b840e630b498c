"""The data scope of analytics queries: the same clause the REST collections put in their SQL.

An aggregate over orders only sees the orders the viewer may read, an aggregate over customers
only their customers; nothing is loaded and filtered afterwards.
"""

from __future__ import annotations

from sqlalchemy import true
from sqlalchemy.sql.elements import ColumnElement

from crm_domain.access import Actor, required_scope, scope_clause
from crm_domain.collections import get_collection


def visible(actor: Actor, collection: str) -> ColumnElement[bool]:
    """WHERE clause for the rows of `collection` the actor may read (403 if none at all)."""
    spec = get_collection(collection)
    scope = required_scope(actor, collection, "read")
    return scope_clause(spec.model, actor, scope) if spec.owned else true()
