"""Backup download and restore upload from the console (administrators only).

The same snapshot and the same checks as `weft backup|restore` and the REST API (web.backups).
Restoring replaces every row, so the page asks twice: a ticked box naming the consequence, and
the word RESTORE typed in; without both nothing is read.
"""

from __future__ import annotations

import tempfile

from flask import Blueprint, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required, logout_user

from admin.console.guard import ADMIN_ONLY, console_actor
from admin.console.rendering import all_messages, render_console
from core import clock
from core.errors import Conflict, Invalid
from web.backups import record_backup, restore_into, take_backup
from web.request_session import db

bp = Blueprint("console_backup", __name__, url_prefix="/admin/backup")
CONFIRM_WORD = "RESTORE"
RESTORE_MAX_BYTES = 2 * 1024**3


def _page(actor, errors=None, status: int = 200):
    return render_console(
        "admin/backup.html", actor, status, errors=errors or [], confirm_word=CONFIRM_WORD
    )


@bp.get("", endpoint="backup")
@login_required
def backup_page():
    return _page(console_actor(ADMIN_ONLY))


@bp.post("/download")
@login_required
def download():
    actor = console_actor(ADMIN_ONLY)
    engine = current_app.extensions["weft"].engine
    bind = engine if engine is not None else db().connection()
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (send_file streams it, then closes it)
    try:
        summary = take_backup(bind, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    name = f"weft-backup-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.zip"
    record_backup(db(), actor, name, summary)
    return send_file(spool, mimetype="application/zip", as_attachment=True, download_name=name)


@bp.post("/restore")
@login_required
def restore():
    actor = console_actor(ADMIN_ONLY)
    request.max_content_length = RESTORE_MAX_BYTES
    form = request.form
    if form.get("understood") != "on" or form.get("confirm_word", "").strip() != CONFIRM_WORD:
        message = _("Tick the box and type %(word)s to confirm the restore.", word=CONFIRM_WORD)
        return _page(actor, [message], 422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(actor, [_("Choose the backup file (.zip).")], 422)
    try:
        with tempfile.TemporaryFile() as spool:
            upload.save(spool)
            spool.seek(0)
            summary = restore_into(db(), spool, upload.filename, actor, True)
    except (Invalid, Conflict) as exc:
        return _page(actor, all_messages(exc), exc.status)
    # Every account was replaced too: sign in again against the restored users.
    logout_user()
    rows = sum(summary.tables.values())
    flash(_("Backup restored (%(rows)s rows). Please sign in again.", rows=rows), "success")
    return redirect(url_for("ui_auth.login"))
