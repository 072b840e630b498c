"""Fixtures shared by the process tests."""

from __future__ import annotations

import pytest

from tests.support.rules import Org, deploy_reminder_process


@pytest.fixture
def org(session, make_user):
    """The org tree with its people, and the shipped reminder process deployed."""
    deploy_reminder_process(session)
    return Org(session, make_user)
