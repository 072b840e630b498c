"""Every string the UI shows has its Chinese translation in the catalogue."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.ui.i18n import TRANSLATIONS_DIR

WEB_DIR = TRANSLATIONS_DIR.parent
METHODS = [("ui/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None}


def _catalogue():
    with (TRANSLATIONS_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale="zh_CN")


def test_every_ui_string_in_the_sources_is_translated_to_chinese():
    catalogue = _catalogue()
    used = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB_DIR), METHODS, keywords=KEYWORDS
        )
    }
    assert used, "no UI strings found: the extraction set-up is wrong"
    missing = sorted(m for m in used if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == [], "run `make messages` and translate these in messages.po"


def test_translations_keep_their_placeholders():
    for message in _catalogue():
        if message.id and "%(" in message.id:
            names = sorted(part.split(")")[0] for part in message.id.split("%(")[1:])
            got = sorted(part.split(")")[0] for part in message.string.split("%(")[1:])
            assert got == names, message.id
