"""Users: a login, roles (keys of `role` rows) and a place in the org tree."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, select
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
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


SYSTEM_USERNAME = "system"


def ensure_system_user(session: Session) -> User:
    """The user that work started by the scheduler (reminders, start rules, messages) acts as.

    It holds the admin role so processes can reach every record, and a random password nobody
    knows, so it cannot sign in."""
    import secrets

    user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        user = User(
            username=SYSTEM_USERNAME,
            display_name="Weft 系统 (system)",
            password_hash=hash_password(secrets.token_urlsafe(32)),
            roles=["admin"],
            is_active=True,
        )
        session.add(user)
        session.flush()
    return user


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    org_unit_id: int | None = None,
    email: str | None = None,
    *,
    actor: Any = None,
) -> User:
    from crm_domain.admin_audit import record_admin_change, snapshot
    from crm_domain.org import OrgUnit
    from crm_domain.roles import role_keys

    errors: dict[str, list[str]] = {}
    if not username or len(username) > 80:
        errors["username"] = ["Username must be 1 to 80 characters."]
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Password must be at least {MIN_PASSWORD_LENGTH} characters."]
    unknown = sorted(set(roles) - role_keys(session))
    if unknown:
        errors["roles"] = [f"Unknown role(s): {', '.join(unknown)}."]
    if org_unit_id is not None and session.get(OrgUnit, org_unit_id) is None:
        errors["org_unit_id"] = ["No such org unit."]
    if email is not None and not EMAIL.match(email):
        errors["email"] = ["Not a valid e-mail address."]
    if errors:
        raise Invalid("The user is not valid.", details=errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"User '{username}' already exists.", details={"username": ["Taken."]})
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=sorted(set(roles) | {"user"}),
        org_unit_id=org_unit_id,
        email=email,
    )
    session.add(user)
    session.flush()
    record_admin_change(session, actor, "user", username, None, snapshot(user, _NOT_AUDITED))
    return user


_NOT_AUDITED = frozenset({"created_at"})


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        return None
    return user


def change_user(session: Session, user_id: int, *, actor: Any = None, **changes) -> User:
    """Change roles, org unit, name or active flag; effective on the user's next request."""
    from core.errors import NotFound
    from crm_domain.admin_audit import record_admin_change, snapshot
    from crm_domain.org import OrgUnit
    from crm_domain.roles import role_keys

    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    errors: dict[str, list[str]] = {}
    if "roles" in changes:
        unknown = sorted(set(changes["roles"]) - role_keys(session))
        if unknown:
            errors["roles"] = [f"Unknown role(s): {', '.join(unknown)}."]
    if changes.get("email") is not None and not EMAIL.match(changes["email"]):
        errors["email"] = ["Not a valid e-mail address."]
    unit_id = changes.get("org_unit_id")
    if unit_id is not None and session.get(OrgUnit, unit_id) is None:
        errors["org_unit_id"] = ["No such org unit."]
    if errors:
        raise Invalid("The change is not valid.", details=errors)
    before = snapshot(user, _NOT_AUDITED)
    for key, value in changes.items():
        if key == "roles":
            value = sorted(set(value) | {"user"})
        setattr(user, key, value)
    session.flush()
    after = snapshot(user, _NOT_AUDITED)
    record_admin_change(session, actor, "user", user.username, before, after)
    return user
