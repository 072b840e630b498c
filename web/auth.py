"""Bearer-token authentication for the REST API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request

from core.errors import Forbidden, Unauthorized
from core.security import read_token
from crm_domain.roles import SEPARATED_GRANTS, rights_of
from crm_domain.users import User
from web.request_session import db


def current_user() -> User:
    user = g.get("user")
    if user is None:
        raise Unauthorized("Sign in first.")
    return user


def _user_from_bearer() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'; get one from /api/v1/auth/token.")
    settings = current_app.extensions["weft"].settings
    user_id = read_token(settings.secret_key, token.strip(), settings.token_ttl_seconds)
    user = db().get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise Unauthorized("The token is invalid or has expired; sign in again.")
    return user


def _allowed(user: User, roles: tuple[str, ...], grant: str | None) -> bool:
    if not roles and grant is None:
        return True
    if roles and user.has_role(*roles):
        return True
    if user.has_role("admin") and grant not in SEPARATED_GRANTS:
        return True
    return grant is not None and rights_of(db(), user.roles).has_grant(grant)


def login_required(*roles: str, grant: str | None = None) -> Callable:
    """Require a valid bearer token; and one of `roles`, or the permission `grant`, when given.

    Admins pass every check except the grants kept apart from administration
    (`SEPARATED_GRANTS`: deploying BPMN is the process designer's). A grant is read from the
    user's role rows on each request, so an administrator giving a custom role
    `deploy_processes` takes effect at once.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            user = _user_from_bearer()
            if not _allowed(user, roles, grant):
                needs = [f"the role {', '.join(roles)}"] if roles else []
                needs += [f"the '{grant}' permission"] if grant else []
                raise Forbidden(f"This needs {' or '.join(needs)}.")
            g.user = user
            return view(*args, **kwargs)

        return wrapper

    return decorator
