"""Users and their roles. Org units, role tables and data scopes arrive with the CRM domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import clock
from core.db import Base, UtcDateTime
from core.errors import Conflict, Invalid
from core.security import hash_password, verify_password

BUILT_IN_ROLES = (
    "user",
    "admin",
    "salesperson",
    "sales_manager",
    "executive",
    "service_agent",
    "process_designer",
)
MIN_PASSWORD_LENGTH = 8


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
) -> User:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 80:
        errors["username"] = ["Username must be 1 to 80 characters."]
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Password must be at least {MIN_PASSWORD_LENGTH} characters."]
    unknown = sorted(set(roles) - set(BUILT_IN_ROLES))
    if unknown:
        errors["roles"] = [f"Unknown role(s): {', '.join(unknown)}."]
    if errors:
        raise Invalid("The user is not valid.", details=errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"User '{username}' already exists.", details={"username": ["Taken."]})
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=sorted(set(roles) | {"user"}),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        return None
    return user
