"""The inbox page: my tasks, tasks open to my roles, what I completed."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from crm_domain.access import actor_for
from web.request_session import db
from web.ui.inbox_query import TABS, InboxFilters, inbox_page, process_names
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_inbox", __name__)


@bp.get("/")
def home():
    return redirect(url_for("ui_inbox.inbox"))


@bp.get("/inbox")
@login_required
def inbox():
    session = db()
    actor = actor_for(session, signed_in_user())
    tab = request.args.get("tab", "mine")
    tab = tab if tab in TABS else "mine"
    filters = InboxFilters.from_args(request.args)
    page = inbox_page(session, actor, tab, filters, request.args.get("after"))
    context = {
        "tab": tab,
        "tabs": TABS,
        "filters": filters,
        "page": page,
        "processes": sorted(process_names(session).items()),
        "first_page": not request.args.get("after"),
    }
    # htmx asks for the list alone when a filter changes; a normal visit gets the whole page.
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "inbox-list":
        return render_template("ui/_inbox_list.html", **context)
    return render_template("ui/inbox.html", **context)
