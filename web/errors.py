"""Every error leaves as `{"error": {"code", "message", "details"}}` with an honest status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core.db import database_unavailable, write_conflict
from core.errors import WeftError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


def error_body(status: int, message: str, details=None) -> dict:
    body = {"code": _CODES.get(status, "error"), "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


class WeftApi(Api):
    """flask-smorest's Api with Weft's error shape for its own (webargs) errors."""

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        details = data.get("errors") or data.get("messages")
        if isinstance(details, dict) and set(details) <= {"json", "query", "form", "files"}:
            # webargs nests by location; callers care about the fields.
            merged: dict = {}
            for location, location_errors in details.items():
                if isinstance(location_errors, dict):
                    merged.update(location_errors)
                else:
                    merged[location] = location_errors
            details = merged
        status = error.code or 500
        if status >= 500:
            log.error("unhandled error on %s %s", request.method, request.path)
            return jsonify(error_body(500, "Something went wrong on our side.")), 500
        message = data.get("message") or _message_for(status, error)
        return jsonify(error_body(status, message, details)), status, data.get("headers", {})


def _message_for(status: int, error: HTTPException) -> str:
    if status == 422:
        return "The request has errors."
    if isinstance(error, RequestEntityTooLarge):
        return "The request is too large."
    return error.description or error.name


def weft_error_response(error: WeftError):
    """A service's error as the API answers it: the error's own status and JSON body."""
    return jsonify(error.to_dict()), error.status


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(WeftError, weft_error_response)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return app.extensions["weft_api"].handle_http_exception(error)
        if database_unavailable(error):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
            if not request.path.startswith(("/api/", "/static/")):
                # A page of its own: the usual layout reads the database.
                headers = {**_RETRY, "Content-Type": "text/html; charset=utf-8"}
                return _UNAVAILABLE_PAGE, 503, headers
            body = error_body(503, "The database is not available just now. Try again shortly.")
            return jsonify(body), 503, _RETRY
        if write_conflict(error):
            log.warning("write conflict on %s %s: %s", request.method, request.path, error)
            body = error_body(409, "Someone else changed the same data just now. Try again.")
            return jsonify(body), 409
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify(error_body(500, "Something went wrong on our side.")), 500


_RETRY = {"Retry-After": "2"}
_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>503</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.6">
<h1>数据库暂时不可用，请稍后重试。</h1>
<p lang="en">The database is not available just now. Try again shortly.</p>
<p><a href="/inbox">返回收件箱 Back to the inbox</a></p>
</body></html>
"""
