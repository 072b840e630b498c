"""Reminder rules and event → process start rules: rows an administrator tunes at run time.

- `models`: the rule tables and the tables of what they already fired (idempotency keys)
- `rules`: reminder rule validation and CRUD
- `sources`, `recipients`, `templates`, `evaluation`: which reminders are due, for whom, saying what
- `start_rules`: start rule validation, CRUD and matching record events
"""
