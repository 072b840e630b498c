"""The console's start page: the sections the signed-in user may open."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin.console.guard import may_use_console, sections_for
from crm_domain.access import actor_for
from web.request_session import db
from web.ui.nav import add_nav_item
from web.ui.session_auth import signed_in_user

bp = Blueprint("console_home", __name__, url_prefix="/admin/console")
add_nav_item(_l("Administration"), "console_home.home", order=90, visible=may_use_console)


@bp.get("")
@login_required
def home():
    sections = sections_for(actor_for(db(), signed_in_user()))
    if not sections:
        abort(403)
    return redirect(url_for(sections[0].endpoint))
