"""Starting instances inside transactions that may roll back (start rules, message starts and
imports run each start in a savepoint): a rolled-back start leaves nothing behind, and the
next start in the same session works even when the database hands out the same id again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.instances import start_instance
from engine.models import HumanTask, ProcessInstance
from tests.support import designer as quote


@pytest.fixture
def seller(session, make_user):
    """A salesperson, with the quote process deployed (committed, as a request would find it)."""
    quote.deploy_version(session)
    user = make_user("salesperson")
    session.commit()
    return user


def test_a_start_rolled_back_in_a_savepoint_leaves_the_session_usable(session, seller):

    savepoint = session.begin_nested()
    lost = start_instance(session, seller, quote.KEY)
    lost_id = lost.id
    savepoint.rollback()

    kept = start_instance(session, seller, quote.KEY, data={"customer_name": "苏州锦华"})
    session.commit()

    assert kept.status == "running"
    assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    stored = session.get(ProcessInstance, kept.id)
    assert stored is kept and stored.data["customer_name"] == "苏州锦华"
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == kept.id)).all()
    assert [t.bpmn_id for t in tasks] == ["prepare_quote"]
    assert session.get(ProcessInstance, lost_id) in (None, kept)


def test_a_rolled_back_savepoint_takes_only_its_own_starts_with_it(session, seller):

    before = start_instance(session, seller, quote.KEY, data={"customer_name": "before"})
    outer = session.begin_nested()
    in_outer = start_instance(session, seller, quote.KEY, data={"customer_name": "outer"})
    inner = session.begin_nested()
    start_instance(session, seller, quote.KEY, data={"customer_name": "inner"})
    inner.rollback()
    outer.commit()
    session.commit()

    stored = session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all()
    assert [row.data["customer_name"] for row in stored] == ["before", "outer"]
    assert stored == [before, in_outer]  # the very objects start_instance returned
    session.refresh(in_outer)  # persistent in the session, as a flushed row is
    assert in_outer.status == "running"


def test_a_start_rolled_back_with_its_whole_transaction_leaves_no_object_behind(session, seller):

    lost = start_instance(session, seller, quote.KEY)
    session.rollback()

    assert lost not in session
    kept = start_instance(session, seller, quote.KEY)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    assert session.get(ProcessInstance, kept.id) is kept


def test_a_start_in_a_released_savepoint_goes_when_the_transaction_rolls_back(session, seller):

    savepoint = session.begin_nested()
    lost = start_instance(session, seller, quote.KEY)
    savepoint.commit()  # released: the start is now part of the transaction ...
    session.rollback()  # ... which rolls back

    assert lost not in session
    kept = start_instance(session, seller, quote.KEY)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    assert session.get(ProcessInstance, kept.id) is kept
