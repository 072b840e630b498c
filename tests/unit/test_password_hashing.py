"""Passwords are hashed with argon2 at RFC 9106's low-memory cost unless told otherwise; the
suite's cheap profile only changes the cost, never who may log in."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters, profiles

from core.security import hash_password, verify_password


def test_production_hashes_use_rfc_9106_low_memory(monkeypatch):
    monkeypatch.delenv("WEFT_PASSWORD_PROFILE", raising=False)
    stored = hash_password("正确的马电池钉书钉")
    parameters = extract_parameters(stored)
    assert (
        (parameters.time_cost, parameters.memory_cost, parameters.parallelism)
        == (
            profiles.RFC_9106_LOW_MEMORY.time_cost,
            profiles.RFC_9106_LOW_MEMORY.memory_cost,
            profiles.RFC_9106_LOW_MEMORY.parallelism,
        )
        == (3, 65536, 4)
    )
    assert verify_password(stored, "正确的马电池钉书钉")
    assert not verify_password(stored, "正确的马电池钉书")


def test_a_hash_made_under_one_profile_verifies_under_the_other(monkeypatch):
    monkeypatch.setenv("WEFT_PASSWORD_PROFILE", "cheapest")
    cheap = hash_password("correct-horse-1")
    monkeypatch.setenv("WEFT_PASSWORD_PROFILE", "default")
    assert verify_password(cheap, "correct-horse-1")
    assert not verify_password(cheap, "correct-horse-2")
    dear = hash_password("correct-horse-1")  # and the other way round
    monkeypatch.setenv("WEFT_PASSWORD_PROFILE", "cheapest")
    assert verify_password(dear, "correct-horse-1")
    assert not verify_password(dear, "correct-horse-2")


def test_an_unknown_profile_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("WEFT_PASSWORD_PROFILE", "fast")
    with pytest.raises(RuntimeError, match="WEFT_PASSWORD_PROFILE='fast'"):
        hash_password("correct-horse-1")


def test_a_mistyped_profile_stops_the_app_from_starting(monkeypatch, settings):
    from web.app import create_app

    monkeypatch.setenv("WEFT_PASSWORD_PROFILE", "fast")
    with pytest.raises(RuntimeError, match="WEFT_PASSWORD_PROFILE='fast'"):
        create_app(settings)
