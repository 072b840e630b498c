"""Who may open which console page: checked on the server on every request.

Each section names the right it needs: a grant (`manage_fields`, `manage_roles`, ...) or, for
the sections the REST API keeps to administrators, the `admin` role itself (ADMIN_ONLY). A
process designer holds `deploy_processes` only, so every section here answers 403 to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_babel import lazy_gettext as _l

from crm_domain.access import Actor, actor_for
from crm_domain.users import User
from web.request_session import db
from web.ui.session_auth import signed_in_user

ADMIN_ONLY = "admin"


@dataclass(frozen=True)
class Section:
    endpoint: str
    label: object
    right: str


SECTIONS = (
    Section("console_fields.fields", _l("Custom fields"), "manage_fields"),
    Section("console_roles.roles", _l("Roles and permissions"), "manage_roles"),
    Section("console_rules.reminder_rules", _l("Reminder rules"), ADMIN_ONLY),
    Section("console_rules.start_rules", _l("Start rules"), ADMIN_ONLY),
    Section("console_users.users", _l("Users"), "manage_users"),
    Section("console_org.org_tree", _l("Org tree"), "manage_users"),
    Section("console_settings.settings", _l("System settings"), "manage_settings"),
    Section("console_backup.backup", _l("Backup and restore"), ADMIN_ONLY),
    Section("console_audit.audit_log", _l("Audit log"), ADMIN_ONLY),
)


def holds(actor: Actor, right: str) -> bool:
    return actor.rights.is_admin if right == ADMIN_ONLY else actor.rights.has_grant(right)


def console_actor(right: str) -> Actor:
    """The signed-in actor when they hold `right`; otherwise the request ends with 403."""
    actor = actor_for(db(), signed_in_user())
    if not holds(actor, right):
        abort(403)
    return actor


def sections_for(actor: Actor) -> list[Section]:
    return [section for section in SECTIONS if holds(actor, section.right)]


def may_use_console(user: User) -> bool:
    return bool(sections_for(actor_for(db(), user)))
