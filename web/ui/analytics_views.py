"""The analytics dashboard: charts of customer value, sales and service figures for the signed-in
user's data scope, each with a data table and a CSV download; and the recompute button (grant
`manage_settings`) whose progress the page polls with htmx."""

from __future__ import annotations

import threading

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from core.errors import Forbidden
from crm_domain.access import actor_for
from crm_domain.analytics import recompute
from crm_domain.analytics.models import AnalyticsJob
from crm_domain.analytics.scope import visible
from crm_domain.analytics.value_matrix import last_recompute_result
from web.api.analytics_api import csv_response
from web.request_session import db
from web.ui.analytics_figures import FIGURES, SECTIONS, cell
from web.ui.nav import add_nav_item
from web.ui.session_auth import signed_in_user

bp = Blueprint("ui_analytics", __name__, url_prefix="/analytics")
add_nav_item(_l("Analytics"), "ui_analytics.dashboard", order=60)
RUNNING = ("queued", "running")


def _figures(actor) -> dict:
    """Each figure the user may see (a figure over records they may not read is left out).
    Figures sharing a service call (the service charts) compute it once."""
    computed: dict = {}
    out = {}
    for name, figure in FIGURES.items():
        try:
            if figure.compute not in computed:
                computed[figure.compute] = figure.compute(db(), actor)
        except Forbidden:
            computed[figure.compute] = None
        payload = computed[figure.compute]
        if payload is not None:
            out[name] = {
                "figure": figure,
                "payload": payload,
                "rows": figure.rows(payload),
                "chart": figure.chart(payload),
            }
    return out


def _may_recompute(actor) -> bool:
    return actor.rights.has_grant("manage_settings")


@bp.get("")
@login_required
def dashboard():
    actor = actor_for(db(), signed_in_user())
    running = None
    if _may_recompute(actor):
        running = db().query(AnalyticsJob).filter(AnalyticsJob.status.in_(RUNNING)).first()
    return render_template(
        "ui/analytics.html",
        figures=_figures(actor),
        sections=SECTIONS,
        cell=cell,
        last=last_recompute_result(db()),
        may_recompute=_may_recompute(actor),
        running=running,
    )


@bp.get("/<figure>.csv")
@login_required
def figure_csv(figure: str):
    if figure not in FIGURES:
        abort(404)
    chosen = FIGURES[figure]
    payload = chosen.compute(db(), actor_for(db(), signed_in_user()))
    return csv_response(chosen.rows(payload), figure)


@bp.post("/recompute")
@login_required
def start_recompute():
    """Queue a recompute and run it in a background thread, as the API does; htmx swaps in the
    job's progress, which then polls `job_status` until the job has finished."""
    session = db()
    job_id = recompute.request_recompute(session, actor_for(session, signed_in_user())).id
    session.commit()  # pollers see the job; on SQLite the write lock is free for the job
    factory = current_app.extensions["weft"].session_factory
    threading.Thread(
        target=recompute.run_job, args=(factory, job_id), daemon=True, name=f"analytics-{job_id}"
    ).start()
    if request.headers.get("HX-Request"):
        return render_template("ui/_analytics_job.html", job=session.get(AnalyticsJob, job_id))
    flash(_("The recompute has started."), "success")
    return redirect(url_for("ui_analytics.dashboard"))


@bp.get("/jobs/<int:job_id>")
@login_required
def job_status(job_id: int):
    visible(actor_for(db(), signed_in_user()), "customers")  # analytics are about customers
    job = db().get(AnalyticsJob, job_id)
    if job is None:
        abort(404)
    return render_template("ui/_analytics_job.html", job=job)
