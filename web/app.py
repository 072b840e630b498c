"""The Flask application factory."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, jsonify, send_from_directory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from core.config import PROJECT_ROOT, Settings
from core.db import make_engine, make_session_factory
from core.digits import MAX_ID
from core.security import password_hasher
from web.errors import WeftApi, register_error_handlers
from web.nul_guard import init_nul_guard
from web.request_session import init_request_session
from web.ui import init_ui

VENDOR_PACKAGES = {"swagger-ui-dist", "htmx.org", "@picocss", "bpmn-js", "chart.js"}


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every URL: an id beyond what the databases' integer keys hold names no
    record, so the request is a 404 at routing (whatever its method) instead of a database
    error (500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()
        return number


@dataclass
class WeftState:
    settings: Settings
    engine: Engine | None
    session_factory: sessionmaker[Session]


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> Flask:
    settings = settings or Settings.from_env()
    password_hasher()  # a mistyped WEFT_PASSWORD_PROFILE stops the start, not every sign-in
    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)

    app = Flask(__name__)
    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Room for a few upload files; each file's own cap is checked by the parser.
        MAX_CONTENT_LENGTH=settings.upload_max_bytes * 4,
        JSON_SORT_KEYS=False,
        API_TITLE="Weft",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="api/v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="api/docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui-dist/",
    )
    app.extensions["weft"] = WeftState(settings, engine, session_factory)
    init_request_session(app)

    api = WeftApi(app)
    app.extensions["weft_api"] = api
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "token"}
    )
    from web.api import (
        admin_api,
        analytics_api,
        auth_api,
        backup_api,
        customer_api,
        definitions_api,
        exchange_api,
        instances_api,
        messages_api,
        notifications_api,
        operations_api,
        records_api,
        roles_api,
        rules_api,
        settings_api,
        tasks_api,
    )

    for module in (
        auth_api,
        definitions_api,
        instances_api,
        tasks_api,
        messages_api,
        records_api,
        customer_api,
        exchange_api,
        admin_api,
        roles_api,
        notifications_api,
        operations_api,
        rules_api,
        settings_api,
        backup_api,
        analytics_api,
    ):
        api.register_blueprint(module.blp)
    register_error_handlers(app)
    init_nul_guard(app)
    init_ui(app)

    @app.get("/static/vendor/<package>/<path:filename>")
    def vendor_asset(package: str, filename: str):
        """Browser packages installed from the npm lock file, served by us (no CDN)."""
        if package not in VENDOR_PACKAGES:
            abort(404)
        return send_from_directory(PROJECT_ROOT / "node_modules" / package, filename)

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app
