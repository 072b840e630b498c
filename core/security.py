"""Password hashing (argon2) and signed, expiring bearer tokens."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import clock

_TOKEN_SALT = "weft.api-token"

# Argon2 cost parameters, by WEFT_PASSWORD_PROFILE. Unset, passwords get RFC 9106's
# low-memory profile (argon2-cffi's default: 3 passes over 64 MiB). The test suite sets
# "cheapest": it creates thousands of users and logs in thousands of times, and what its tests
# check is who may log in, not the cost of a guess. A hash keeps its parameters, so one made
# with either profile verifies under the other.
PASSWORD_PROFILES = {
    "default": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


def password_hasher() -> PasswordHasher:
    return _hasher_for(os.environ.get("WEFT_PASSWORD_PROFILE") or "default")


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    if profile not in PASSWORD_PROFILES:
        raise RuntimeError(
            f"WEFT_PASSWORD_PROFILE={profile!r} is not one of {', '.join(PASSWORD_PROFILES)}."
        )
    return PasswordHasher.from_parameters(PASSWORD_PROFILES[profile])


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(secret_key: str, user_id: int, ttl_seconds: int) -> tuple[str, datetime]:
    serializer = URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)
    return serializer.dumps({"uid": user_id}), clock.now() + timedelta(seconds=ttl_seconds)


def read_token(secret_key: str, token: str, ttl_seconds: int) -> int | None:
    """The user id a token was issued for, or None when it is forged or expired."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)
    try:
        payload = serializer.loads(token, max_age=ttl_seconds)
    except (BadSignature, SignatureExpired):
        return None
    uid = payload.get("uid") if isinstance(payload, dict) else None
    return uid if isinstance(uid, int) else None
