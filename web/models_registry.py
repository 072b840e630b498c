"""Imports every module that defines tables, so Base.metadata is complete."""

from crm_domain import users  # noqa: F401
from engine import models  # noqa: F401
