"""The header's navigation: pages add themselves here instead of editing base.html.

from flask_babel import lazy_gettext as _l
from web.ui.nav import add_nav_item
add_nav_item(_l("Customers"), "ui_customers.list_customers", order=20)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, url_for


@dataclass(frozen=True)
class NavItem:
    label: object  # a lazy_gettext string
    endpoint: str
    order: int
    # Who sees the item (given the signed-in user); the page itself still checks on the server.
    visible: Callable | None = None


_ITEMS: list[NavItem] = []


def add_nav_item(label, endpoint: str, order: int = 50, visible: Callable | None = None) -> None:
    if all(item.endpoint != endpoint for item in _ITEMS):
        _ITEMS.append(NavItem(label, endpoint, order, visible))


def extra_nav_items() -> list[dict]:
    """Items whose endpoint exists in this app (a module may be imported but not registered)."""
    endpoints = set(current_app.view_functions)
    return [
        {"label": str(item.label), "url": url_for(item.endpoint)}
        for item in sorted(_ITEMS, key=lambda i: i.order)
        if item.endpoint in endpoints
        and (item.visible is None or (g.get("user") is not None and item.visible(g.user)))
    ]
