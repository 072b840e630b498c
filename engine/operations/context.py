"""Who a service task or a CRM read helper acts as, and in which transaction.

The runtime binds an `OperationContext` around every engine run (`runtime.run_engine`) and
around the evaluation of user-task properties, so operations and read helpers reach the
instance's session and acting user without Spiff having to carry them.

The acting user is the instance's starter: its permissions and data scope apply to every
operation the instance runs, whoever completed the task that led there, so a process never
reaches more than the person who started it. Instances nobody started (a message or the
scheduler started them) act as the system user: the active user named by `WEFT_SYSTEM_USER`
(default `system`). Without one, operations fail with an incident that says so.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.errors import Forbidden
from crm_domain.access import Actor, actor_for
from crm_domain.users import SYSTEM_USERNAME, User

SYSTEM_USER_VARIABLE = "WEFT_SYSTEM_USER"
DEFAULT_SYSTEM_USERNAME = SYSTEM_USERNAME  # seeded by `weft db upgrade`


class NoActingUser(Forbidden):
    pass


@dataclass
class OperationContext:
    session: Session
    started_by_id: int | None
    instance_id: int | None = None  # None while a new instance runs its first steps
    process_key: str | None = None
    _user: User | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return clock.now()

    @cached_property
    def user(self) -> User:
        return self._user or acting_user(self.session, self.started_by_id)

    @cached_property
    def actor(self) -> Actor:
        return actor_for(self.session, self.user)


def system_username() -> str:
    return os.environ.get(SYSTEM_USER_VARIABLE, "").strip() or DEFAULT_SYSTEM_USERNAME


def acting_user(session: Session, started_by_id: int | None) -> User:
    if started_by_id is not None:
        starter = session.get(User, started_by_id)
        if starter is not None and starter.is_active:
            return starter
    username = system_username()
    system = session.scalar(select(User).where(User.username == username, User.is_active))
    if system is None:
        raise NoActingUser(
            f"This instance has no active starter to act as, and there is no active system user "
            f"'{username}' (set {SYSTEM_USER_VARIABLE} or create that user with the roles the "
            "process needs)."
        )
    return system


_current: contextvars.ContextVar[OperationContext | None] = contextvars.ContextVar(
    "weft_operation_context", default=None
)


class NoOperationContext(RuntimeError):
    pass


def current_context() -> OperationContext:
    ctx = _current.get()
    if ctx is None:
        raise NoOperationContext(
            "CRM operations and read helpers run only inside a process instance."
        )
    return ctx


@contextlib.contextmanager
def bound(ctx: OperationContext | None) -> Iterator[OperationContext | None]:
    """Make `ctx` the current context inside the block (this thread/context only)."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
