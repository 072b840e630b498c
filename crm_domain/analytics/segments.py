"""Segments: saved customer filters — the customer list's search and filters (region,
industry, grade, stage, custom fields, as in `GET /api/v1/customers`) plus ranges over the
computed figures (RFM scores, sales, values) and a value-matrix quadrant.

A definition looks like
    {"q": "苏州", "filters": {"region": "华东", "grade": "A", "custom.channel": "direct"},
     "ranges": {"r_score": [4, 5], "monetary": [100000, null]}, "quadrant": "develop"}
and is evaluated when used, for the person using it: everyone sees only the customers in
their own data scope. Campaigns target a segment by `{"segment_id": N}` in their `segment`;
reminder rules by `{"segment": N}` in their filters, evaluated company-wide at each run
(`company_customers_select`), and a segment a rule targets cannot be deleted (409).
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core import clock
from core.errors import Conflict, Invalid, NotFound
from crm_domain import record_service
from crm_domain.access import Actor, reaches, required_scope, scope_clause
from crm_domain.analytics.models import CustomerMetrics, Segment
from crm_domain.analytics.value_matrix import QUADRANTS, quadrant_expression, thresholds
from crm_domain.collections import get_collection
from crm_domain.customers import Customer
from crm_domain.marketing import campaigns_using_segment
from crm_domain.record_fields import MAX_ID
from crm_domain.reminders.segment_use import rules_using_segment

# Beyond any figure a customer has (money is capped at 10^12 per amount), and within what the
# databases compare without overflow; a larger bound is a typing mistake.
MAX_BOUND = 10**15

RANGE_FIELDS = (
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "current_value",
    "clv_retention",
    "clv_predicted",
    "potential_value",
    "expected_purchases",
    "probability_alive",
)
KEYS = {"q", "filters", "ranges", "quadrant"}


def check_definition(session: Session, actor: Actor, definition) -> dict:
    """The definition, cleaned; 422 with field-level details when it is not valid."""
    if not isinstance(definition, dict):
        raise Invalid("The segment is not valid.", details={"definition": ["Give an object."]})
    errors: dict[str, list[str]] = {}
    for key in set(definition) - KEYS:
        errors[f"definition.{key}"] = [f"Unknown key; use {', '.join(sorted(KEYS))}."]
    q = definition.get("q")
    if q is not None and (not isinstance(q, str) or len(q) > 200):
        errors["definition.q"] = ["Give a text of at most 200 characters."]
    filters = definition.get("filters") or {}
    if not isinstance(filters, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in filters.items()
    ):
        errors["definition.filters"] = ['Give {"field": "value"} texts.']
        filters = {}
    ranges = definition.get("ranges") or {}
    if not isinstance(ranges, dict):
        errors["definition.ranges"] = ['Give {"field": [min, max]}.']
        ranges = {}
    for name, bounds in ranges.items():
        key = f"definition.ranges.{name}"
        if name not in RANGE_FIELDS:
            errors[key] = [f"Unknown figure; use {', '.join(RANGE_FIELDS)}."]
        elif (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or any(
                b is not None and (isinstance(b, bool) or not isinstance(b, int | float))
                for b in bounds
            )
        ):
            errors[key] = ["Give [min, max]; either may be null."]
        elif any(b is not None and not abs(b) <= MAX_BOUND for b in bounds):
            errors[key] = ["Give bounds between -10^15 and 10^15."]
        elif None not in bounds and bounds[0] > bounds[1]:
            errors[key] = ["The minimum is above the maximum."]
    quadrant = definition.get("quadrant")
    if quadrant is not None and quadrant not in QUADRANTS:
        errors["definition.quadrant"] = [f"Use one of: {', '.join(QUADRANTS)}."]
    if "definition.filters" not in errors and "definition.q" not in errors:
        try:  # the customer list's own checks: known filters, values of the right type
            record_service.filtered_select(
                session, actor, get_collection("customers"), q=q, filters=filters
            )
        except Invalid as exc:
            for key, messages in (exc.details or {}).items():
                errors[f"definition.filters.{key}"] = list(messages)
    if errors:
        raise Invalid("The segment is not valid.", details=errors)
    clean = {"filters": dict(filters), "ranges": dict(ranges)}
    if q:
        clean["q"] = q
    if quadrant:
        clean["quadrant"] = quadrant
    return clean


def customers_select(session: Session, actor: Actor, definition: dict) -> Select:
    """SELECT of the Customer rows the definition picks, within the actor's customer scope."""
    stmt = record_service.filtered_select(
        session,
        actor,
        get_collection("customers"),
        q=definition.get("q"),
        filters=definition.get("filters") or {},
    )
    return _within_ranges(session, stmt, definition)


def company_customers_select(session: Session, definition: dict) -> Select:
    """SELECT of every Customer the definition picks, in no one's data scope: for reminder
    rules, which an administrator sets for the whole company and the scheduler evaluates
    (each reminder then goes to the record's own people). Raises Invalid when the definition
    no longer works (e.g. a custom field it filters on was archived)."""
    stmt = record_service.company_filtered_select(
        session,
        get_collection("customers"),
        q=definition.get("q"),
        filters=definition.get("filters") or {},
    )
    return _within_ranges(session, stmt, definition)


def _within_ranges(session: Session, stmt: Select, definition: dict) -> Select:
    ranges = definition.get("ranges") or {}
    quadrant = definition.get("quadrant")
    if ranges or quadrant:
        stmt = stmt.join(CustomerMetrics, CustomerMetrics.customer_id == Customer.id)
        for name, (low, high) in ranges.items():
            column = getattr(CustomerMetrics, name)
            if low is not None:
                stmt = stmt.where(column >= low)
            if high is not None:
                stmt = stmt.where(column <= high)
        if quadrant:
            stmt = stmt.where(quadrant_expression(thresholds(session)) == quadrant)
    return stmt


def count_customers(session: Session, stmt: Select) -> int:
    """How many customers a SELECT from `customers_select` picks."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


# --- saved segments --------------------------------------------------------------------------


def _segment_scope(actor: Actor) -> str:
    # Segments are customer filters: whoever may read customers may keep segments, and sees
    # the segments owned within their customer scope.
    return required_scope(actor, "customers", "read")


def list_segments(session: Session, actor: Actor) -> list[Segment]:
    scope = _segment_scope(actor)
    return list(
        session.scalars(
            select(Segment).where(scope_clause(Segment, actor, scope)).order_by(Segment.id)
        )
    )


def get_segment(session: Session, actor: Actor, segment_id: int) -> Segment:
    scope = _segment_scope(actor)
    # An id no INTEGER column holds (from a URL or a campaign's JSON) is no segment: the
    # database would refuse the lookup rather than find nothing.
    segment = (
        session.scalar(
            select(Segment).where(Segment.id == segment_id, scope_clause(Segment, actor, scope))
        )
        if 1 <= segment_id <= MAX_ID
        else None
    )
    if segment is None:
        raise NotFound(f"There is no segment {segment_id}.")
    return segment


def _checked_name(data: dict, required: bool) -> dict[str, list[str]]:
    name = data.get("name")
    if name is None and not required:
        return {}
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        return {"name": ["Give a name of 1 to 200 characters."]}
    return {}


def _checked_with(
    session: Session, actor: Actor, definition, errors: dict, given: bool = True
) -> dict | None:
    """The definition checked (None when not given), with the other fields' errors reported
    in the same 422, so every problem shows at once."""
    clean = None
    if given:
        try:
            clean = check_definition(session, actor, definition)
        except Invalid as exc:
            errors.update(exc.details or {})
    if errors:
        raise Invalid("The segment is not valid.", details=errors)
    return clean


def create_segment(session: Session, actor: Actor, data: dict) -> Segment:
    errors = _checked_name(data, required=True)
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        errors["description"] = ["Give a text."]
    definition = _checked_with(session, actor, data.get("definition") or {}, errors)
    segment = Segment(
        name=data["name"].strip(),
        description=description,
        definition=definition,
        owner_id=actor.id,
        org_unit_id=actor.user.org_unit_id,
    )
    session.add(segment)
    session.flush()
    return segment


def update_segment(session: Session, actor: Actor, segment_id: int, data: dict) -> Segment:
    segment = get_segment(session, actor, segment_id)
    if not reaches(session, actor, _segment_scope(actor), segment.owner_id, segment.org_unit_id):
        raise NotFound(f"There is no segment {segment_id}.")
    errors = _checked_name(data, required=False)
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        errors["description"] = ["Give a text."]
    # Conditions sent back as stored (a rename) are not checked again: someone without the
    # grant for a sensitive field a segment filters on may still rename it.
    given = "definition" in data and data["definition"] != segment.definition
    definition = _checked_with(session, actor, data.get("definition"), errors, given)
    if "name" in data:
        segment.name = data["name"].strip()
    if "description" in data:
        segment.description = description
    if given:
        segment.definition = definition
    segment.updated_at = clock.now()
    session.flush()
    return segment


def delete_segment(session: Session, actor: Actor, segment_id: int) -> None:
    """Delete a saved segment; 409 naming the reminder rules and campaigns that still target it
    (deleting it under them would silently stop their reminders or empty their targets)."""
    segment = get_segment(session, actor, segment_id)
    rules = rules_using_segment(session, segment.id)
    campaigns = campaigns_using_segment(session, segment.id)
    if rules or campaigns:
        users = [f"{rule.name} (#{rule.id})" for rule in rules]
        users += [f"{campaign.name} (#{campaign.id})" for campaign in campaigns]
        raise Conflict(
            f"Reminder rules or campaigns still target this segment: {', '.join(users)}. "
            "Change or delete them first.",
            details={
                "reminder_rules": [{"id": rule.id, "name": rule.name} for rule in rules],
                "campaigns": [{"id": c.id, "name": c.name} for c in campaigns],
            },
        )
    session.delete(segment)
    session.flush()


def segment_customers(
    session: Session, actor: Actor, segment_id: int, *, page: int = 1, per_page: int = 50
) -> tuple[list[Customer], int]:
    """The customers a saved segment picks now, within the actor's scope (campaign targets)."""
    segment = get_segment(session, actor, segment_id)
    stmt = customers_select(session, actor, segment.definition or {})
    total = count_customers(session, stmt)
    per_page = max(1, min(per_page, record_service.MAX_PER_PAGE))
    rows = session.scalars(
        stmt.order_by(Customer.id).limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(rows), total


def segment_dict(segment: Segment) -> dict:
    return {
        "id": segment.id,
        "name": segment.name,
        "description": segment.description,
        "definition": segment.definition,
        "owner_id": segment.owner_id,
        "org_unit_id": segment.org_unit_id,
        "created_at": segment.created_at.isoformat(),
        "updated_at": segment.updated_at.isoformat(),
    }
