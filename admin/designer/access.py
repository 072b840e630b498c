"""Who may use the designer console, checked on the server for every page and action.

- Changing processes (deploy, edit, make a version current, migrate) needs the
  `process_designer` role, or another role holding the `deploy_processes` grant. The built-in
  `admin` role alone is not enough: administrators run the system, designers change the flows.
- Reading the catalogue and operating instances (retry, cancel, suspend, resume) is open to
  designers and administrators, the operators of `engine.instances`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import login_required

from crm_domain.roles import rights_of
from crm_domain.users import User
from engine.instances import OPERATOR_ROLES
from web.request_session import db
from web.ui.session_auth import signed_in_user

DESIGNER_ROLE = "process_designer"
DEPLOY_GRANT = "deploy_processes"


def may_design(user: User | None) -> bool:
    if user is None:
        return False
    if user.has_role(DESIGNER_ROLE):
        return True
    # Grants of the user's other roles; admin's blanket rights are left out on purpose.
    other_roles = [role for role in user.roles if role != "admin"]
    return bool(other_roles) and DEPLOY_GRANT in rights_of(db(), other_roles).grants


def may_operate(user: User | None) -> bool:
    return user is not None and (user.has_role(*OPERATOR_ROLES) or may_design(user))


def _guarded(check: Callable[[User | None], bool]) -> Callable:
    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not check(signed_in_user()):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


designer_required = _guarded(may_design)
operator_required = _guarded(may_operate)
