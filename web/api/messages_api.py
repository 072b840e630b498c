"""POST /api/v1/messages: deliver a message to the instances waiting for it."""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.messages import correlate_message
from web.api.schemas import MessageRequest, MessageResponse
from web.auth import current_user, login_required
from web.request_session import db

blp = Blueprint("messages", __name__, url_prefix="/api/v1/messages", description="BPMN messages")


@blp.route("", methods=["POST"])
@login_required()
@blp.arguments(MessageRequest)
@blp.response(202, MessageResponse)
def send_message(body: dict):
    """Correlate by name and correlation values; 404 when nothing waits for it."""
    delivered = correlate_message(
        db(), current_user(), body["name"], body["correlation"], body["payload"]
    )
    return {"delivered_to": delivered}
