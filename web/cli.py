"""The `weft` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from core import clock
from core.config import Settings
from core.db import make_engine, make_session_factory, unit_of_work
from core.errors import WeftError


def _factory(settings: Settings):
    return make_session_factory(make_engine(settings.database_url))


def _fail(error: WeftError) -> None:
    click.echo(f"error: {error.message}", err=True)
    details = error.details
    if isinstance(details, dict):
        for field, messages in details.items():
            for message in messages if isinstance(messages, list) else [messages]:
                click.echo(f"  {field}: {message}", err=True)
    elif isinstance(details, list):
        for item in details:
            if isinstance(item, dict):
                where = ":".join(str(item[k]) for k in ("file", "line") if item.get(k) is not None)
                element = f" [{item['element_id']}]" if item.get("element_id") else ""
                click.echo(f"  {where}{element}: {item.get('message')}", err=True)
    sys.exit(2)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Weft: a CRM whose processes are BPMN."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = Settings.from_env()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--no-shipped", is_flag=True, help="Do not deploy the shipped processes/ folder.")
@click.pass_obj
def db_upgrade(settings: Settings, no_shipped: bool) -> None:
    """Migrate the database to the latest schema and deploy the shipped processes."""
    from engine.shipped import deploy_shipped
    from web.database import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")
    if no_shipped:
        return
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            for deployment in deploy_shipped(
                session, settings.processes_dir, settings.upload_max_bytes
            ):
                for d in deployment.created:
                    click.echo(f"deployed shipped process {d.key} v{d.version}")
    except WeftError as error:
        _fail(error)


@main.command()
@click.option("--customers", default=3000, show_default=True, help="How many demo customers.")
@click.pass_obj
def demo(settings: Settings, customers: int) -> None:
    """Load the demo company (org tree, users, customers, history) into an empty CRM."""
    from crm_domain.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    with unit_of_work(_factory(settings)) as session:
        counts = load_demo(session, customers=customers)
    if counts.get("customers"):
        click.echo(
            f"demo data loaded: {counts['customers']} customers, {counts['users']} users, "
            f"{counts['products']} products, {counts['orders']} orders, "
            f"{counts['payments']} payments, {counts['service_requests']} service requests"
        )
        # The dashboards should show the demo's figures at once, not after the nightly run.
        from crm_domain.analytics.recompute import request_recompute, run_job

        with unit_of_work(_factory(settings)) as session:
            job_id = request_recompute(session, None).id
        result = run_job(_factory(settings), job_id, lambda _value, _stage: None)
        click.echo(
            f"analytics computed: {result['buyers']} buyers, "
            f"{result['grade_changes']} grades from clustering"
        )
    else:
        click.echo("demo data already present; nothing loaded")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for username, display_name, roles, _unit in DEMO_USERS:
        click.echo(f"  {username:10} {', '.join(roles):18} {display_name}")


@main.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, help="Role key; repeat for several.")
@click.option("--display-name", default="")
@click.option("--org-unit", "org_unit", default=None, help="Org unit id or exact name.")
@click.pass_obj
def user_create(
    settings: Settings,
    username: str,
    password: str,
    roles: tuple[str, ...],
    display_name: str,
    org_unit: str | None,
) -> None:
    """Create a user."""
    from crm_domain.org import find_org_unit
    from crm_domain.users import create_user

    try:
        with unit_of_work(_factory(settings)) as session:
            unit_id = find_org_unit(session, org_unit).id if org_unit else None
            created = create_user(
                session, username, password, list(roles), display_name, org_unit_id=unit_id
            )
            roles_text = ", ".join(created.roles)
            click.echo(f"created user {created.username} (id {created.id}) roles: {roles_text}")
    except WeftError as error:
        _fail(error)


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.pass_obj
def deploy(settings: Settings, files: tuple[Path, ...]) -> None:
    """Deploy BPMN/DMN/form files as new versions (validated exactly as an upload is)."""
    from engine.definitions import deploy_files
    from engine.parsing import UploadedFile
    from web.deployment_audit import current_versions, record_deployment

    uploads = [UploadedFile(p.name, p.read_bytes()) for p in files]
    try:
        with unit_of_work(_factory(settings)) as session:
            current_before = current_versions(session)
            deployment = deploy_files(session, uploads, None, settings.upload_max_bytes)
            record_deployment(session, None, deployment, current_before)
            for d in deployment.definitions:
                state = "new version" if d in deployment.created else "unchanged"
                click.echo(f"{d.key} v{d.version} ({state}) {d.content_hash[:12]}")
            for form in deployment.forms:
                click.echo(f"form {form.key} v{form.version}")
    except WeftError as error:
        _fail(error)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.pass_obj
def backup(settings: Settings, file: Path) -> None:
    """Write a consistent snapshot of the whole database to FILE (a zip)."""
    from web.backups import record_backup, take_backup

    engine = make_engine(settings.database_url)
    partial = file.with_name(file.name + ".partial")  # never leave a half-written FILE
    try:
        with partial.open("wb") as out:
            summary = take_backup(engine, out)
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    with unit_of_work(make_session_factory(engine)) as session:
        record_backup(session, None, str(file), summary)
    manifest = summary.manifest
    click.echo(
        f"backup written to {file}: {manifest.total_rows} rows in {len(manifest.tables)} tables, "
        f"schema revision {', '.join(manifest.revisions)}"
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data of a database that is not empty.")
@click.pass_obj
def restore(settings: Settings, file: Path, force: bool) -> None:
    """Replace all data with the backup in FILE (same schema revision; stop the scheduler)."""
    from core.backup.revision import database_revisions
    from web.backups import restore_into
    from web.database import upgrade

    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        migrated = bool(database_revisions(connection))
    if not migrated:  # a brand-new database: create the schema (no shipped processes) first
        upgrade(engine)
        click.echo("created the schema in the new database")
    try:
        with unit_of_work(make_session_factory(engine)) as session, file.open("rb") as source:
            summary = restore_into(session, source, str(file), None, force)
    except WeftError as error:
        _fail(error)
    rows = sum(summary.tables.values())
    click.echo(
        f"restored {rows} rows in {len(summary.tables)} tables from {file} "
        f"(taken {summary.manifest.created_at} on {summary.manifest.source_dialect})"
    )


@main.command()
@click.option("--now", "now_text", default=None, help="Run due work as of this ISO-8601 instant.")
@click.pass_obj
def tick(settings: Settings, now_text: str | None) -> None:
    """Run all due work once (timers, start rules, reminders, outbox), as of now or --now."""
    from crm_domain.outbox import dispatch_due
    from crm_domain.senders import outbox_senders
    from engine.reminders import run_due_reminders
    from engine.start_rules import run_start_rules
    from engine.timers import fire_due_timers

    try:
        now = clock.parse_instant(now_text) if now_text else clock.now()
    except ValueError:
        raise click.BadParameter(
            "Use an ISO-8601 instant, e.g. 2027-01-01T09:00:00Z.", param_hint="--now"
        ) from None
    report = fire_due_timers(_factory(settings), now)
    started = run_start_rules(_factory(settings), now)
    reminders = run_due_reminders(_factory(settings), now)
    sent = dispatch_due(_factory(settings), outbox_senders(settings.smtp_url), now)
    click.echo(
        f"as of {now.isoformat()}: timers fired for {len(report.fired)} instance(s), "
        f"{report.conflicts} conflict(s), {report.errors} error(s); "
        f"start rules {started.started} started, {started.failed} failed; "
        f"reminders {reminders.created} created, {reminders.errors} error(s); "
        f"outbox {sent.sent} sent, {sent.retried} to retry, {sent.dead} gave up"
    )
    if report.errors or reminders.errors:
        sys.exit(1)


@main.command()
@click.pass_obj
def scheduler(settings: Settings) -> None:
    """Run the scheduler (timers) in the foreground."""
    from engine.scheduler import run_blocking

    click.echo("scheduler running; Ctrl-C to stop")
    run_blocking(_factory(settings))


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler in this process.")
@click.option("--threads", default=8, type=int)
@click.pass_obj
def serve(settings: Settings, host: str, port: int, no_scheduler: bool, threads: int) -> None:
    """Serve the web app (and, unless told not to, the scheduler)."""
    from waitress import serve as waitress_serve

    from engine.scheduler import start_background
    from web.app import create_app

    app = create_app(settings)
    if not no_scheduler:
        start_background(app.extensions["weft"].session_factory)
    click.echo(f"Weft on http://{host}:{port}/  (API docs: /api/docs)")
    waitress_serve(app, host=host, port=port, threads=threads)


def _acting_user(session, username: str):
    """The user an import/export runs as (their grants, data scope and audit name)."""
    from sqlalchemy import select

    from core.errors import NotFound
    from crm_domain.access import actor_for
    from crm_domain.users import User

    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotFound(f"There is no active user '{username}'.")
    return actor_for(session, user)


def _fail_rows(error: WeftError) -> None:
    """Like _fail, for import errors: one line per `{row, column, field, message}`."""
    click.echo(f"error: {error.message}", err=True)
    details = error.details
    if not isinstance(details, list):
        _fail(error)
    for item in details:
        where = ", ".join(
            part
            for part in (
                f"row {item['row']}" if item.get("row") is not None else "",
                str(item.get("column") or item.get("field") or ""),
            )
            if part
        )
        click.echo(
            f"  {where}: {item.get('message')}" if where else f"  {item['message']}", err=True
        )
    sys.exit(2)


@main.command("import")
@click.argument("collection")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--as", "username", required=True, help="Import as this user (grants, scope).")
@click.option("--ignore-unknown", is_flag=True, help="Skip columns that are not fields.")
@click.pass_obj
def import_command(
    settings: Settings,
    collection: str,
    file: Path,
    dry_run: bool,
    username: str,
    ignore_unknown: bool,
) -> None:
    """Import a CSV or XLSX file into COLLECTION: all rows or none."""
    from crm_domain.collections import get_collection
    from crm_domain.exchange import IMPORT_MAX_BYTES, import_records, read_table

    try:
        spec = get_collection(collection)
        if file.stat().st_size > IMPORT_MAX_BYTES:
            from core.errors import PayloadTooLarge

            raise PayloadTooLarge(
                f"The file is larger than {IMPORT_MAX_BYTES // 1048576} MB; split it."
            )
        labels = tuple(str(v) for v in spec.label.values())
        table = read_table(file.read_bytes(), file.name, sheet_names=(collection, *labels))
        with (
            unit_of_work(_factory(settings)) as session,
            click.progressbar(
                length=len(table.rows), label=f"{collection} ← {file.name}", file=sys.stderr
            ) as bar,
        ):
            actor = _acting_user(session, username)
            done = [0]

            def progress(processed: int, _total: int) -> None:
                bar.update(processed - done[0])
                done[0] = processed

            report = import_records(
                session,
                actor,
                collection,
                table,
                dry_run=dry_run,
                ignore_unknown=ignore_unknown,
                filename=file.name,
                progress=progress,
            )
    except WeftError as error:
        _fail_rows(error)
    verb = ("would create", "would update") if dry_run else ("created", "updated")
    click.echo(
        f"{report.total_rows} rows: {verb[0]} {report.created}, {verb[1]} {report.updated}, "
        f"unchanged {report.unchanged}" + (" (dry run: nothing written)" if dry_run else "")
    )
    if report.ignored_columns:
        click.echo(f"ignored columns: {', '.join(report.ignored_columns)}")


@main.command("export")
@click.argument("collection")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="Default: from FILE's extension, else csv.",
)
@click.option("--headers", type=click.Choice(["en", "zh"]), default="en")
@click.option("--encoding", type=click.Choice(["utf-8", "gb18030"]), default="utf-8")
@click.option("--q", default=None, help="Search, as the list endpoint's q.")
@click.option("--filter", "filters", multiple=True, help="FIELD=VALUE; repeat for several.")
@click.option("--as", "username", required=True, help="Export as this user (grants, scope).")
@click.pass_obj
def export_command(
    settings: Settings,
    collection: str,
    file: Path,
    fmt: str | None,
    headers: str,
    encoding: str,
    q: str | None,
    filters: tuple[str, ...],
    username: str,
) -> None:
    """Export the COLLECTION records the user can see to FILE (CSV or XLSX)."""
    from crm_domain.exchange import export_records

    fmt = fmt or ("xlsx" if file.suffix.lower() == ".xlsx" else "csv")
    pairs = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter("Use FIELD=VALUE.", param_hint="--filter")
        pairs[key.strip()] = value
    partial = file.with_name(file.name + ".partial")
    try:
        with unit_of_work(_factory(settings)) as session, partial.open("wb") as target:
            actor = _acting_user(session, username)
            export_records(
                session,
                actor,
                collection,
                target,
                format=fmt,
                language=headers,
                encoding=encoding,
                q=q,
                filters=pairs,
            )
        partial.replace(file)
    except WeftError as error:
        partial.unlink(missing_ok=True)
        _fail(error)
    click.echo(f"exported {collection} to {file}")


@main.group()
def analytics() -> None:
    """Customer value analytics (RFM, lifetime value, value matrix, grades)."""


@analytics.command("recompute")
@click.pass_obj
def analytics_recompute(settings: Settings) -> None:
    """Recompute every customer's figures and grades now, with a progress bar."""
    from crm_domain.analytics.recompute import request_recompute, run_job

    factory = _factory(settings)
    with unit_of_work(factory) as session:
        job_id = request_recompute(session, None).id
    with click.progressbar(length=100, label=f"analytics job {job_id}", file=sys.stderr) as bar:
        done = [0]

        def progress(value: int, stage: str) -> None:
            bar.label = f"analytics job {job_id}: {stage}"
            bar.update(value - done[0])
            done[0] = value

        try:
            result = run_job(factory, job_id, progress)
        except Exception as error:  # the job row keeps the details
            click.echo(f"\nerror: recompute failed: {error}", err=True)
            sys.exit(2)
        bar.update(100 - done[0])
    clustering = result.get("clustering") or {}
    click.echo(
        f"{result['customers']} customers, {result['buyers']} with orders; "
        f"{clustering.get('k', 0)} clusters, {result['grade_changes']} grade changes"
    )
