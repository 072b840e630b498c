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

    uploads = [UploadedFile(p.name, p.read_bytes()) for p in files]
    try:
        with unit_of_work(_factory(settings)) as session:
            deployment = deploy_files(session, uploads, None, settings.upload_max_bytes)
            for d in deployment.definitions:
                state = "new version" if d in deployment.created else "unchanged"
                click.echo(f"{d.key} v{d.version} ({state}) {d.content_hash[:12]}")
            for form in deployment.forms:
                click.echo(f"form {form.key} v{form.version}")
    except WeftError as error:
        _fail(error)


@main.command()
@click.option("--now", "now_text", default=None, help="Run due work as of this ISO-8601 instant.")
@click.pass_obj
def tick(settings: Settings, now_text: str | None) -> None:
    """Run all due work once (timers, outbox), as of now or the given instant."""
    from crm_domain.outbox import dispatch_due
    from crm_domain.senders import outbox_senders
    from engine.timers import fire_due_timers

    try:
        now = clock.parse_instant(now_text) if now_text else clock.now()
    except ValueError:
        raise click.BadParameter(
            "Use an ISO-8601 instant, e.g. 2027-01-01T09:00:00Z.", param_hint="--now"
        ) from None
    report = fire_due_timers(_factory(settings), now)
    sent = dispatch_due(_factory(settings), outbox_senders(settings.smtp_url), now)
    click.echo(
        f"as of {now.isoformat()}: timers fired for {len(report.fired)} instance(s), "
        f"{report.conflicts} conflict(s), {report.errors} error(s); "
        f"outbox {sent.sent} sent, {sent.retried} to retry, {sent.dead} gave up"
    )
    if report.errors:
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
