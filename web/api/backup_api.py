"""Backups over REST (administrators only): download a snapshot, upload one to restore."""

from __future__ import annotations

import tempfile

from flask import current_app, request, send_file
from flask_smorest import Blueprint

from core import clock
from core.errors import Invalid
from web.auth import current_user, login_required
from web.backups import record_backup, restore_into, take_backup
from web.request_session import db

blp = Blueprint(
    "admin_backups", __name__, url_prefix="/api/v1/admin", description="Backup and restore"
)

# A whole database is far bigger than a BPMN upload: restore uploads get their own cap.
RESTORE_MAX_BYTES = 2 * 1024**3
CONFIRM_VALUES = ("true", "1", "yes")


@blp.route("/backups", methods=["POST"])
@login_required("admin")
def create_backup():
    """Take a consistent snapshot of the whole database and download it (a zip)."""
    engine = current_app.extensions["weft"].engine
    # A fresh REPEATABLE READ transaction on the engine when there is one; otherwise (an app
    # built on a given session factory) the request's own transaction is the snapshot.
    bind = engine if engine is not None else db().connection()
    # On disk, not in memory. Not a `with` block: send_file streams it and closes it afterwards.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        summary = take_backup(bind, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    name = f"weft-backup-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.zip"
    record_backup(db(), current_user(), name, summary)
    response = send_file(spool, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["X-Weft-Backup-Rows"] = str(summary.manifest.total_rows)
    return response


@blp.route("/restore", methods=["POST"])
@login_required("admin")
def restore():
    """Replace ALL data with an uploaded backup (multipart `file`, and `confirm=true`).

    Same schema revision only (409 otherwise); a bad file is 422 and changes nothing. Everything
    is replaced in one transaction. Stop the scheduler first; everyone signs in again after.
    """
    request.max_content_length = RESTORE_MAX_BYTES
    if request.form.get("confirm", "").lower() not in CONFIRM_VALUES:
        raise Invalid(
            "Restoring replaces all data in this CRM. Send confirm=true to do it.",
            details={"confirm": ["Required: true."]},
        )
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("Send the backup as a multipart part named 'file'.", {"file": ["Required."]})
    with tempfile.TemporaryFile() as spool:
        upload.save(spool)
        spool.seek(0)
        summary = restore_into(db(), spool, upload.filename or "upload", current_user(), True)
    return {
        "restored": True,
        "taken_at": summary.manifest.created_at,
        "taken_on": summary.manifest.source_dialect,
        "revisions": summary.manifest.revisions,
        "tables": summary.tables,
        "rows": sum(summary.tables.values()),
    }
