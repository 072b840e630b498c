"""Fixtures shared by the process tests (the org tree, `org`, is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.processes.sales_support import sales_team
from tests.processes.service_support import service_desk


@pytest.fixture
def team(session, make_user, api_as, session_factory):
    """The sales org, its people signed in to the API, and the sales process deployed."""
    return sales_team(session, make_user, api_as, session_factory)


@pytest.fixture
def desk(session, make_user, api_as, session_factory):
    """The service org, its people signed in to the API, and the service process deployed."""
    return service_desk(session, make_user, api_as, session_factory)
