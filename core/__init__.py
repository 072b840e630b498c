"""Weft's foundation: configuration, database, clock, errors, security helpers."""
