"""The staff workspace in the browser: server-rendered pages (Jinja + htmx).

`init_ui(app)` sets up the language (Flask-Babel), browser sign-in (flask-login), CSRF on
every form, and registers the page blueprints. How to add a page: docs/UI.md.
"""

from __future__ import annotations

from flask import Flask, g, request

from web.ui.csrf import init_csrf
from web.ui.error_pages import init_error_pages
from web.ui.i18n import init_i18n
from web.ui.session_auth import init_session_auth


def init_ui(app: Flask) -> None:
    from admin.console import console_blueprints
    from admin.designer import page_blueprints as designer_blueprints
    from web.ui import (
        analytics_reports,
        analytics_views,
        auth_views,
        customer_views,
        inbox_views,
        instance_views,
        notification_views,
        record_forms,
        record_lists,
        record_pages,
        segment_editor,
        task_views,
    )
    from web.ui.header import header_context
    from web.ui.nav import extra_nav_items

    init_i18n(app)
    init_session_auth(app)
    init_csrf(app)
    app.context_processor(header_context)
    app.jinja_env.globals["extra_nav_items"] = extra_nav_items
    # web/ui's pages: a service's error their views let through becomes an error page.
    page_blueprints = (
        auth_views.bp,
        inbox_views.bp,
        task_views.bp,
        notification_views.bp,
        analytics_views.bp,
        analytics_reports.bp,
        segment_editor.bp,
        record_lists.bp,
        record_pages.bp,
        record_forms.bp,
        customer_views.bp,
        instance_views.bp,
    )
    for blueprint in (*page_blueprints, *console_blueprints(), *designer_blueprints()):
        app.register_blueprint(blueprint)
    init_error_pages(app, page_blueprints)

    @app.before_request
    def _no_caching_of_pages_with_personal_data():
        g.ui_page = not request.path.startswith(("/api/", "/static/"))

    @app.after_request
    def _private(response):
        if g.get("ui_page") and response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
