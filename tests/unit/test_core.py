from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.security import hash_password, issue_token, read_token, verify_password


def test_frozen_clock_is_local_to_the_block_and_the_thread():
    instant = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    seen_elsewhere = []
    with clock.frozen_at(instant):
        assert clock.now() == instant
        worker = threading.Thread(target=lambda: seen_elsewhere.append(clock.now()))
        worker.start()
        worker.join()
    assert seen_elsewhere[0] != instant
    assert clock.now() != instant


def test_parse_instant_accepts_z_and_treats_naive_as_utc():
    assert clock.parse_instant("2027-01-01T09:00:00Z") == datetime(2027, 1, 1, 9, tzinfo=UTC)
    assert clock.parse_instant("2027-01-01T09:00:00") == datetime(2027, 1, 1, 9, tzinfo=UTC)
    shifted = clock.parse_instant("2027-01-01T17:00:00+08:00")
    assert shifted == datetime(2027, 1, 1, 9, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.parse_instant("next tuesday")


def test_passwords_hash_and_verify():
    stored = hash_password("纺织-secret-1")
    assert stored != "纺织-secret-1"
    assert verify_password(stored, "纺织-secret-1")
    assert not verify_password(stored, "wrong")
    assert not verify_password("not-a-hash", "anything")


def test_tokens_round_trip_and_refuse_forgery():
    token, expires = issue_token("k1", 42, 60)
    assert read_token("k1", token, 60) == 42
    assert expires - clock.now() <= timedelta(seconds=61)
    assert read_token("other-key", token, 60) is None
    assert read_token("k1", token + "x", 60) is None
    assert read_token("k1", "garbage", 60) is None
