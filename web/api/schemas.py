"""Marshmallow schemas for the API's requests and responses."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class TokenRequest(StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TokenResponse(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class DefinitionSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    hash = fields.String(attribute="content_hash")
    is_current = fields.Boolean()
    deployed_at = fields.DateTime()
    deployed_by_id = fields.Integer(allow_none=True)
    bpmn_filename = fields.String()
    form_keys = fields.Function(lambda d: sorted(d.forms))


class DefinitionSummarySchema(DefinitionSchema):
    latest_version = fields.Integer()


class DeploymentSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    hash = fields.String()
    created = fields.Boolean()
    deployed = fields.List(fields.Nested(DefinitionSchema))
    forms = fields.List(fields.Dict())
    decisions = fields.List(fields.Dict())


class SetCurrentRequest(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class SubjectSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.Length(min=1, max=50))
    id = fields.Raw(required=True)


class StartInstanceRequest(StrictSchema):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=255))
    data = fields.Dict(load_default=dict)
    subject = fields.Nested(SubjectSchema, allow_none=True, load_default=None)


class RetryRequest(StrictSchema):
    data = fields.Dict(load_default=None, allow_none=True)


class InstanceListQuery(StrictSchema):
    status = fields.String(
        validate=validate.OneOf(
            ["running", "waiting", "completed", "cancelled", "suspended", "error"]
        )
    )
    process_key = fields.String()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class TaskSchema(Schema):
    id = fields.String()
    name = fields.String()
    process_key = fields.String()
    instance_id = fields.Integer()
    bpmn_id = fields.String()
    assignee = fields.Integer(attribute="assignee_id", allow_none=True)
    candidate_roles = fields.Function(lambda t: [t.lane] if t.lane else [])
    due_at = fields.DateTime(allow_none=True)
    priority = fields.Integer()
    form_key = fields.String(allow_none=True)
    instructions = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.Integer(attribute="completed_by_id", allow_none=True)


class InstanceSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    process_key = fields.String()
    version = fields.Integer(attribute="definition_version")
    subject = fields.Function(
        lambda i: {"type": i.subject_type, "id": i.subject_id} if i.subject_type else None
    )
    started_at = fields.DateTime()
    started_by = fields.Integer(attribute="started_by_id", allow_none=True)
    updated_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


class EventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    task_id = fields.String(allow_none=True)
    task_name = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    detail = fields.Dict()


class IncidentSchema(Schema):
    id = fields.Integer()
    task_id = fields.String(allow_none=True)
    task_name = fields.String(allow_none=True)
    message = fields.String()
    detail = fields.Dict()
    created_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)


class InstanceDetailSchema(InstanceSchema):
    data = fields.Dict()
    tasks = fields.List(fields.Nested(TaskSchema))
    events = fields.List(fields.Nested(EventSchema))
    incidents = fields.List(fields.Nested(IncidentSchema))


class TaskListQuery(StrictSchema):
    scope = fields.String(
        load_default="mine", validate=validate.OneOf(["mine", "available", "all"])
    )
    status = fields.String(
        load_default="open", validate=validate.OneOf(["open", "completed", "cancelled"])
    )
    process_key = fields.String()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    total = fields.Integer()


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True)
    # The decimal places that the form's configured precisions ("places": "quantity") allow
    # now, e.g. {"quantity": 0}; {} when the form names none.
    form_places = fields.Dict(keys=fields.String(), values=fields.Integer())
    data = fields.Dict()


class CompleteTaskRequest(StrictSchema):
    data = fields.Raw(load_default=dict)


class MessageRequest(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    correlation = fields.Dict(load_default=dict)
    payload = fields.Dict(load_default=dict)


class MessageResponse(Schema):
    delivered_to = fields.List(fields.Integer())
