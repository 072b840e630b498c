"""Flask-Babel set-up: the locale of each request, and locale-aware formatting for templates.

Simplified Chinese is the default (the demo company is Chinese); English is one click away.
The choice lives in the session and in a long-lived cookie, so it survives logging out.
The catalogue (web/translations/*/messages.po) is compiled to .mo when it is newer than the
compiled file, so a fresh checkout and `make run`/`make test` need no separate build step.
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, format_currency, format_date, format_decimal, get_locale
from flask_babel import format_datetime as babel_datetime

from core import clock

log = logging.getLogger(__name__)

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANGUAGE_COOKIE = "weft_lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

# "准备报价 Prepare quote": shipped BPMN names carry both languages; show the reader's half.
_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*[\u3400-\u9fff][^A-Za-z]*?)\s*(?P<en>[A-Za-z].*)$")


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> Path:
    """Compile each <lang>/LC_MESSAGES/messages.po newer than its .mo; return the .mo root.

    The .mo files go under `.compiled/` in the folders Babel looks in: it names zh_CN
    `zh_Hans_CN`, while translators (and pybabel) keep the catalogue in `zh_CN/`.
    """
    compiled_root = directory / ".compiled"
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        language = po_path.parent.parent.name
        mo_path = compiled_root / str(Locale.parse(language)) / "LC_MESSAGES" / "messages.mo"
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        tmp_path = mo_path.with_suffix(f".mo.{os.getpid()}")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp_path.replace(mo_path)  # atomic: parallel test workers never read half a file
        log.info("compiled %s", mo_path)
    return compiled_root


def select_locale() -> str:
    chosen = session.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LOCALES else company_default_locale()


def company_default_locale() -> str:
    """The administrator's default language (system setting `ui.default_language`), for
    readers who have not chosen one; read per request, so a change applies at once."""
    from crm_domain.settings import get_setting
    from web.request_session import db

    language = get_setting(db(), "ui.default_language")
    return "en" if language == "en" else DEFAULT_LOCALE


def is_chinese() -> bool:
    return str(get_locale() or DEFAULT_LOCALE).startswith("zh")


def localized(text) -> str:
    """A form label/help: `{"zh": ..., "en": ...}` or a plain string, in the reader's language."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    first, second = ("zh", "en") if is_chinese() else ("en", "zh")
    return text.get(first) or text.get(second) or ""


def bilingual(text: str | None) -> str:
    """The reader's half of a "中文 English" name from a BPMN file; other names unchanged."""
    if not text:
        return ""
    match = _BILINGUAL.match(text.strip())
    if not match:
        return text
    return match.group("zh").strip() if is_chinese() else match.group("en").strip()


def when(value: datetime | date | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return babel_datetime(value, "short" if style == "short" else "medium")
    return format_date(value, "medium")


def money(value, currency: str = "CNY") -> str:
    if value is None or value == "":
        return ""
    return format_currency(Decimal(str(value)), currency)


def number(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    return format_decimal(value)


def fixed(value, places: int, most: int | None = None) -> str:
    """A number with `places` decimals (up to `most` when the further ones are not zeros),
    rounded half up, in the reader's locale: quantities with `quantity.decimal_places`."""
    if value is None or value == "":
        return ""
    most = max(places, most if most is not None else places)
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP)
    pattern = "#,##0" + ("." + "0" * places + "#" * (most - places) if most else "")
    return format_decimal(number, format=pattern)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault(
        "BABEL_DEFAULT_TIMEZONE", os.environ.get("WEFT_TIMEZONE", "Asia/Shanghai")
    )
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compile_catalogues()))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.filters.update(
        when=when,
        money=money,
        number=number,
        fixed=fixed,
        localized=localized,
        bilingual=bilingual,
    )
    app.jinja_env.globals.update(
        LOCALES=LOCALES, current_locale=lambda: str(get_locale()), now_utc=clock.now
    )
