"""Import and export of CRM records (CSV or XLSX) over REST, and import job progress.

- `POST /api/v1/import/<collection>`: multipart `file` (CSV or XLSX), optional `dry_run`,
  `async`, `ignore_unknown` (form fields or query parameters; `1/true/yes`). Small files are
  imported in the request: 200 with the report for a dry run, 201 when applied, 422 with
  `{row, column, field, message}` errors (nothing written), 413 over the size or row cap.
  With `async=1`, or more than `ASYNC_ROW_THRESHOLD` rows, the import runs as a background
  job: 202 `{job_id, status, url}`, progress at `GET /api/v1/import-jobs/{id}`.
- `GET /api/v1/import/<collection>/format`: the collection's exchange format (columns, Chinese
  headers, types, keys).
- `GET /api/v1/export/<collection>?format=csv|xlsx&headers=en|zh&encoding=utf-8|gb18030` plus
  the list endpoint's `q` and filters; streamed.

The rules (grants, data scope, validation, masking) are in crm_domain.exchange and
crm_domain.record_service; this module only moves bytes.
"""

from __future__ import annotations

import threading

from flask import Response, current_app, jsonify, request, send_file
from flask_smorest import Blueprint

from core.errors import Invalid, PayloadTooLarge
from crm_domain.collections import get_collection
from crm_domain.exchange.columns import exchange_format
from crm_domain.exchange.exporting import csv_chunks, prepare_export, xlsx_file
from crm_domain.exchange.importing import check_header, check_import_allowed, import_records
from crm_domain.exchange.jobs import (
    create_import_job,
    get_import_job,
    job_to_dict,
    run_import_job,
)
from crm_domain.exchange.reading import IMPORT_MAX_BYTES, read_table
from web.api.records_api import current_actor
from web.auth import login_required
from web.request_session import db

blp = Blueprint(
    "exchange", __name__, url_prefix="/api/v1", description="Import and export of CRM records"
)
ASYNC_ROW_THRESHOLD = 5000
MULTIPART_OVERHEAD = 1024 * 1024
EXPORT_PARAMS = {"format", "headers", "encoding", "q", "sort", "page", "per_page"}
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def _flag(name: str) -> bool:
    raw = request.form.get(name, request.args.get(name))
    if raw is None:
        return False
    text = raw.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise Invalid(f"'{name}' must be true or false.", details={name: ["Use true or false."]})


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than {IMPORT_MAX_BYTES // 1048576} MB; split it into smaller files."
    )


@blp.route("/import/<collection>", methods=["POST"])
@login_required()
def import_file(collection: str):
    """Import a CSV or XLSX file (all rows or none); `dry_run` checks without writing."""
    spec = get_collection(collection)
    actor = current_actor()
    check_import_allowed(actor, collection)
    limit = IMPORT_MAX_BYTES + MULTIPART_OVERHEAD
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    request.max_content_length = limit  # this route's own cap (over the app-wide one)
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(
            "Send the file as a multipart/form-data part named 'file'.",
            details={"file": ["Missing."]},
        )
    content = upload.read(IMPORT_MAX_BYTES + 1)
    if len(content) > IMPORT_MAX_BYTES:
        raise _too_large()
    filename = upload.filename or f"upload.{collection}"
    dry_run, run_async, ignore_unknown = _flag("dry_run"), _flag("async"), _flag("ignore_unknown")
    labels = tuple(str(v) for v in spec.label.values())
    table = read_table(content, filename, sheet_names=(collection, *labels))
    del content
    if run_async or len(table.rows) > ASYNC_ROW_THRESHOLD:
        check_header(db(), collection, table, ignore_unknown=ignore_unknown)
        job = create_import_job(
            db(), actor, collection, filename, dry_run=dry_run, total_rows=len(table.rows)
        )
        body = job_to_dict(job)
        # The job runs on its own connection: commit it first so that it can see the row
        # (and, on SQLite, so that this request does not hold the write lock it needs).
        db().commit()
        factory = current_app.extensions["weft"].session_factory
        threading.Thread(
            target=run_import_job,
            args=(factory, job.id, table),
            kwargs={"ignore_unknown": ignore_unknown},
            name=f"weft-import-{job.id}",
            daemon=True,
        ).start()
        response = jsonify({"job_id": job.id, **body, "url": f"/api/v1/import-jobs/{job.id}"})
        response.status_code = 202
        response.headers["Location"] = f"/api/v1/import-jobs/{job.id}"
        return response
    report = import_records(
        db(),
        actor,
        collection,
        table,
        dry_run=dry_run,
        ignore_unknown=ignore_unknown,
        filename=filename,
    )
    response = jsonify(report.to_dict())
    response.status_code = 200 if dry_run else 201
    return response


@blp.route("/import/<collection>/format", methods=["GET"])
@login_required()
def import_format(collection: str):
    """The exchange format: columns (API field names), Chinese headers, types, match keys."""
    return jsonify(exchange_format(db(), collection).describe())


@blp.route("/import-jobs/<int:job_id>", methods=["GET"])
@login_required()
def import_job(job_id: int):
    """Status and progress of a background import (yours, or any for an admin)."""
    return jsonify(job_to_dict(get_import_job(db(), current_actor(), job_id)))


@blp.route("/export/<collection>", methods=["GET"])
@login_required()
def export_collection(collection: str):
    """Records in your data scope as CSV or XLSX; `q` and filters as in the list endpoint."""
    args = request.args
    export = prepare_export(
        db(),
        current_actor(),
        collection,
        format=args.get("format", "csv").lower(),
        language=args.get("headers", "en").lower(),
        encoding=args.get("encoding", "utf-8"),
        q=args.get("q"),
        filters={key: value for key, value in args.items() if key not in EXPORT_PARAMS},
    )
    disposition = f'attachment; filename="{export.filename}"'
    if export.format == "xlsx":
        workbook = xlsx_file(export, db())
        response = send_file(
            workbook,
            mimetype=export.media_type,
            as_attachment=True,
            download_name=export.filename,
        )
        return response
    factory = current_app.extensions["weft"].session_factory

    def stream():
        # Runs after the request's own session has committed and closed.
        session = factory()
        try:
            yield from csv_chunks(export, session)
        finally:
            session.close()

    charset = "gb18030" if export.encoding == "gb18030" else "utf-8"
    return Response(
        stream(),
        mimetype=f"text/csv; charset={charset}",
        headers={"Content-Disposition": disposition},
    )
