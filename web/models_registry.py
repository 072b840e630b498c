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
from crm_domain.exchange import jobs as exchange_jobs  # noqa: F401
from engine import models  # noqa: F401
