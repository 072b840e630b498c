"""Imports every module that defines tables, so Base.metadata is complete."""

from crm_domain import (  # noqa: F401
    admin_audit,
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
    settings,
    users,
    webhooks,
)
from crm_domain.analytics import models as analytics_models  # noqa: F401
from crm_domain.exchange import jobs as exchange_jobs  # noqa: F401
from crm_domain.reminders import models as reminder_models  # noqa: F401
from engine import models  # noqa: F401
from web.ui import login_guard  # noqa: F401
