"""Text with a NUL character is refused at the door (400), whichever query, form or JSON field it
is in: PostgreSQL's text and jsonb cannot hold it, so it would otherwise fail deep inside a save
as a database error (a 500), after work was already done. Multipart uploads are left to their
endpoints, which parse (and size-check) the files themselves."""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.exceptions import BadRequest

# "\u0000" as a JSON escape: preceded by an even number of backslashes (a user's own text
# "\\u0000", escaped in JSON, is six ordinary characters and passes).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


class NulCharacter(BadRequest):
    description = "Text may not contain the NUL character (\\u0000)."


def init_nul_guard(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters() -> None:
        sources = [request.args]
        if request.mimetype == "application/x-www-form-urlencoded":
            sources.append(request.form)  # not multipart: uploads are read by their endpoint
        texts = (value for source in sources for _, value in source.items(multi=True))
        if any("\x00" in value for value in texts):
            raise NulCharacter()
        if request.is_json:
            body = request.get_data(cache=True)
            if b"\x00" in body or _JSON_NUL.search(body):
                raise NulCharacter()
