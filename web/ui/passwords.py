"""Rules a new password must meet when a user changes it in the browser.

The messages are msgids of the UI catalogue, so they reach the user in their language.
"""

from __future__ import annotations

from flask_babel import gettext as _

from crm_domain.users import MIN_PASSWORD_LENGTH, User


def password_problems(user: User, new_password: str, confirmation: str) -> list[str]:
    problems = []
    if len(new_password) < MIN_PASSWORD_LENGTH:
        problems.append(_("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if not any(c.isalpha() for c in new_password) or not any(c.isdigit() for c in new_password):
        problems.append(_("Use both letters and digits."))
    if new_password.strip().lower() == user.username.lower():
        problems.append(_("The password must not be your username."))
    if new_password != confirmation:
        problems.append(_("The two new passwords do not match."))
    return problems
