"""Errors that services raise and the web layer turns into honest HTTP answers."""

from __future__ import annotations

from typing import Any


class WeftError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class BadRequest(WeftError):
    status, code = 400, "bad_request"


class Unauthorized(WeftError):
    status, code = 401, "unauthorized"


class Forbidden(WeftError):
    status, code = 403, "forbidden"


class NotFound(WeftError):
    status, code = 404, "not_found"


class Conflict(WeftError):
    status, code = 409, "conflict"


class PayloadTooLarge(WeftError):
    status, code = 413, "payload_too_large"


class Invalid(WeftError):
    """Input that parsed but breaks a rule; `details` says where (field or file/line/element)."""

    status, code = 422, "invalid"
