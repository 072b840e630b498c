"""Password hashing (argon2) and signed, expiring bearer tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import clock

_hasher = PasswordHasher()
_TOKEN_SALT = "weft.api-token"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
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
