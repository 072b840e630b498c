"""An id in a URL that no integer key can hold names nothing: 404 on every route, API and
browser alike, never a database error."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("huge", [2**31, 10**20])
def test_an_id_beyond_the_integer_keys_is_not_found(api_as, huge):
    api = api_as("admin")
    for path in (
        f"/api/v1/campaigns/{huge}",
        f"/api/v1/customers/{huge}",
        f"/api/v1/process-instances/{huge}",
        f"/api/v1/customers/{huge}/timeline",
    ):
        response = api.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    # whatever the method: the URL names no record, before any route is chosen
    assert api.patch(f"/api/v1/analytics/segments/{huge}", json={}).status_code == 404
    assert api.delete(f"/api/v1/campaigns/{huge}").status_code == 404
    assert api.get(f"/api/v1/customers/{2**31 - 1}").status_code == 404  # in range, absent
