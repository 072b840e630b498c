"""The console's Python strings (admin/console, outside web/ui) are translated to Chinese too;
its templates are covered by test_translations.py with the rest of web/templates."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir

from core.config import PROJECT_ROOT
from tests.web.test_translations import KEYWORDS, _catalogue


def test_every_console_string_in_python_is_translated_to_chinese():
    catalogue = _catalogue()
    used = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT / "admin" / "console"), [("**.py", "python")], keywords=KEYWORDS
        )
    }
    assert "Custom fields" in used, "no console strings found: the extraction set-up is wrong"
    missing = sorted(m for m in used if not (catalogue.get(m) and catalogue.get(m).string))
    assert missing == []
