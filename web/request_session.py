"""One database session per request; the request boundary owns the commit."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from core.db import database_unavailable
from web.errors import error_body

log = logging.getLogger(__name__)


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["weft"].session_factory()
    return g.db


def init_request_session(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db", None)
        if session is None:
            return response
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        except IntegrityError:
            session.rollback()
            log.warning("commit refused by a constraint", exc_info=True)
            response = jsonify(error_body(409, "The change conflicts with data saved meanwhile."))
            response.status_code = 409
        except DBAPIError as exc:
            session.rollback()
            log.exception("commit failed")
            if database_unavailable(exc):  # lost at COMMIT: whether it went through is unknown
                message = (
                    "The connection to the database was lost while saving. "
                    "Reload to see whether the change was saved."
                )
                response = jsonify(error_body(503, message))
                response.status_code = 503
            else:
                response = jsonify(error_body(409, "The change could not be saved; try again."))
                response.status_code = 409
        finally:
            session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()
