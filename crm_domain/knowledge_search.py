"""Knowledge-base articles that may answer a service request.

An agent looking at a request sees the articles about the request's product first, then
articles whose title, problem or solution contain the search text (by default the request's
subject). Both the request and the articles are read through the scoped queries, so a request
outside the agent's scope is a 404 and the agent needs the right to read articles.
"""

from __future__ import annotations

import re

from sqlalchemy import case, func, or_
from sqlalchemy.orm import Session

from crm_domain import record_service
from crm_domain.access import Actor
from crm_domain.collections import get_collection
from crm_domain.service import Article

MAX_SUGGESTIONS = 50


def articles_for_request(
    session: Session, actor: Actor, request_id: int, q: str | None = None, limit: int = 20
) -> list[Article]:
    request = record_service.get_record(session, actor, "service-requests", request_id)
    text = (q if q is not None else request.subject or "").strip().lower()
    same_product = (
        Article.product_id == request.product_id if request.product_id is not None else None
    )
    conditions = [c for c in (same_product,) if c is not None]
    if text:
        needle = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        conditions += [
            func.lower(column).like(needle, escape="\\")
            for column in (Article.title, Article.problem, Article.solution)
        ]
    if not conditions:
        return []
    stmt = record_service.scoped_select(actor, get_collection("articles")).where(or_(*conditions))
    first = [case((same_product, 0), else_=1)] if same_product is not None else []
    stmt = stmt.order_by(*first, Article.updated_at.desc(), Article.id.desc())
    return list(session.scalars(stmt.limit(max(1, min(limit, MAX_SUGGESTIONS)))))
