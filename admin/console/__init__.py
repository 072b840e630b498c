"""The administrator console in the browser: custom fields, roles, reminder and start rules,
users and the org tree, settings, backup/restore and the admin audit log.

Pages call the crm_domain services directly (never the REST API) with the signed-in actor, and
every view checks the actor's right on the server (`guard.console_actor`). Templates live in
web/templates/admin/. The blueprints are registered by `web.ui.init_ui`.
"""

from __future__ import annotations


def console_blueprints() -> tuple:
    from admin.console import (
        audit_pages,
        backup_pages,
        field_pages,
        home,
        org_pages,
        role_pages,
        rule_pages,
        settings_pages,
        user_pages,
    )

    return (
        home.bp,
        field_pages.bp,
        role_pages.bp,
        rule_pages.bp,
        user_pages.bp,
        org_pages.bp,
        settings_pages.bp,
        backup_pages.bp,
        audit_pages.bp,
    )
