"""Fixtures shared by the process tests (the org tree: `org` in tests/conftest.py)."""
