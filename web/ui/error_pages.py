"""The workspace's "not found" and "no access" pages, in the user's language.

A page ends up here in one of two ways: its view calls `abort(404)` / `abort(403)`, or a
service raises `core.errors.NotFound` / `Forbidden` and the view lets it propagate. web/ui's
page views do not turn those service errors into aborts themselves; both ways get the same
page, status and wording. Any other service error a page view did not handle (an `Invalid`
or a `Conflict` it has no form state for) still gets a page with its status and message, never
the API's JSON. The API keeps its JSON errors (web/errors.py), and so does a service's error
in the admin console and the designer, whose views handle their own.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, g, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from core.errors import Forbidden, NotFound, WeftError
from web.errors import weft_error_response
from web.request_session import db
from web.ui.validation_messages import translated


def error_page(status: int, message: str | None = None):
    """The page for a 404 or a 403, or for another status with its own message."""
    if message is None:
        not_found = status == 404
        message = _("Page not found.") if not_found else _("You do not have access to this page.")
    return render_template("ui/error.html", status=status, message=message), status


def _service_message(message: str) -> str:
    """A service's English sentence in the reader's language: a validation sentence, or one the
    pages also show (in the catalogue); else as it is."""
    shown = translated(message)
    return _(message) if shown == message else shown


def init_error_pages(app: Flask, page_blueprints: Iterable[Blueprint]) -> None:
    """Answer 404/403 with the error page on pages, for aborts and for services' errors;
    `page_blueprints` are web/ui's blueprints, whose views let NotFound/Forbidden propagate."""
    ui_pages = {blueprint.name for blueprint in page_blueprints}

    def _aborted(error: HTTPException):
        if request.path.startswith("/api/") or not g.get("ui_page"):
            return app.extensions["weft_api"].handle_http_exception(error)
        return error_page(error.code or 404)

    def _refused_by_a_service(error: WeftError):
        if request.blueprint not in ui_pages:
            return weft_error_response(error)
        # Nothing the refused call added may be flushed by the queries the page's layout makes
        # (the request rolls back any answer >= 400 anyway).
        db().rollback()
        if isinstance(error, NotFound | Forbidden):
            return error_page(error.status)
        return error_page(error.status, _service_message(error.message))

    app.register_error_handler(403, _aborted)
    app.register_error_handler(404, _aborted)
    # Registered after web/errors.py's handler for WeftError, so this one is the app's.
    app.register_error_handler(WeftError, _refused_by_a_service)
