"""Imports every module that defines tables, so Base.metadata is complete."""

from crm_domain import (  # noqa: F401
    audit,
    custom_fields,
    customers,
    interactions,
    marketing,
    notifications,
    orders,
    org,
    outbox,
    products,
    roles,
    sales,
    sales_targets,
    service,
    users,
    webhooks,
)
from engine import models  # noqa: F401
