"""The registry other operation families build on: one name, one operation."""

from __future__ import annotations

import pytest
from marshmallow import Schema, fields

from engine.operations import all_operations, get_operation, registry
from engine.operations.registry import DuplicateOperation, operation


class NoParams(Schema):
    pass


@pytest.fixture(autouse=True)
def registered_families():
    """Every family registered first, as in a running Weft; test operations removed after."""
    before = {op.name for op in all_operations()}
    yield
    for name in set(registry._registry) - before:
        del registry._registry[name]


def test_a_second_operation_with_a_taken_name_is_refused():
    with pytest.raises(DuplicateOperation, match=r"crm\.get_record"):

        @operation("crm.get_record", NoParams, result_variable="x")
        def impostor(ctx, params):
            """Not the real one."""

    assert get_operation("crm.get_record").function.__name__ == "get_record_operation"


def test_parameters_are_described_from_the_schema():
    class Params(Schema):
        amount = fields.Decimal(required=True, metadata={"description": "Amount in CNY."})
        when = fields.Date()

    @operation("test.describe_me", Params, result_variable="described", result="nothing")
    def describe_me(ctx, params):
        """Describe me. 描述。"""

    found = get_operation("test.describe_me")
    assert found.description == "Describe me. 描述。"
    assert [(p.name, p.type, p.required, p.description) for p in found.parameters] == [
        ("amount", "number", True, "Amount in CNY."),
        ("when", "date", False, ""),
    ]
