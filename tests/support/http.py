"""What an API test expects of a response, with the body shown when it is not so."""

from __future__ import annotations


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def errors_of(response) -> dict:
    """The field-level messages of a 422."""
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["details"]
