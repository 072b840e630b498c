"""What the configured precisions a task form names stand for now (system settings).

A decimal field may say `"places": "quantity"` or `"places": "money"` (forms.definitions); the
number of places is the setting `quantity.decimal_places` or `money.decimal_places` of the
moment, read here and passed to forms.submission, which does not know the settings.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_domain.settings import get_setting
from forms.definitions import named_places

PLACES_SETTINGS = {"quantity": "quantity.decimal_places", "money": "money.decimal_places"}


def configured_places(session: Session, form: dict | None) -> dict[str, int]:
    """`{"quantity": 0, ...}` for the precisions `form` names; {} (and no query) for the rest."""
    return {name: get_setting(session, PLACES_SETTINGS[name]) for name in named_places(form)}


def current_places(session: Session) -> dict[str, int]:
    """What every configured precision stands for now (for the designer's form editor)."""
    return {name: get_setting(session, key) for name, key in PLACES_SETTINGS.items()}
