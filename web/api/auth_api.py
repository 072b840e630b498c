"""POST /api/v1/auth/token."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from core.errors import Unauthorized
from core.security import issue_token
from crm_domain.users import authenticate
from web.api.schemas import TokenRequest, TokenResponse
from web.request_session import db

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Bearer tokens")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
def create_token(body: dict):
    """Trade a username and password for a bearer token."""
    user = authenticate(db(), body["username"], body["password"])
    if user is None:
        raise Unauthorized("Wrong username or password.")
    settings = current_app.extensions["weft"].settings
    token, expires_at = issue_token(settings.secret_key, user.id, settings.token_ttl_seconds)
    return {"token": token, "expires_at": expires_at}
