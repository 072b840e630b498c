"""Rendering console pages: the section menu around every page, and errors shown by field."""

from __future__ import annotations

from flask import render_template

from admin.console.guard import sections_for
from core.errors import WeftError
from crm_domain.access import Actor
from web.ui.validation_messages import translated


def render_console(template: str, actor: Actor, status: int = 200, **context):
    return render_template(template, sections=sections_for(actor), **context), status


def field_errors(error: WeftError) -> dict[str, list[str]]:
    """The error's details as `{field: [messages in the reader's language]}`."""
    details = getattr(error, "details", None) or {}
    if not isinstance(details, dict):
        return {"": [translated(str(error))]}
    return {
        str(key): [translated(str(m)) for m in (msgs if isinstance(msgs, list) else [msgs])]
        for key, msgs in details.items()
    }


def all_messages(error: WeftError) -> list[str]:
    """Every message of the error, for a place that shows them together."""
    messages = [m for ms in field_errors(error).values() for m in ms]
    return messages or [translated(error.message)]
