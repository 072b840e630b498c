from __future__ import annotations


def test_token_for_valid_credentials(client, make_user):
    make_user("salesperson", username="wang.fang", password="s3cret-pass")
    response = client.post(
        "/api/v1/auth/token", json={"username": "wang.fang", "password": "s3cret-pass"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"] and body["expires_at"]
    tasks = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {body['token']}"})
    assert tasks.status_code == 200


def test_wrong_password_and_unknown_user_get_401(client, make_user):
    make_user(username="li.lei", password="right-password")
    for creds in (
        {"username": "li.lei", "password": "wrong-password"},
        {"username": "nobody", "password": "whatever-1"},
    ):
        response = client.post("/api/v1/auth/token", json=creds)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_missing_fields_and_bad_json_are_422_or_400(client):
    response = client.post("/api/v1/auth/token", json={"username": "x"})
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["details"]
    garbage = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert garbage.status_code in (400, 422)
    assert "error" in garbage.get_json()


def test_deactivated_user_token_stops_working(client, make_user, session):
    user = make_user(username="zhao.min", password="pass-word-1")
    token = client.post(
        "/api/v1/auth/token", json={"username": "zhao.min", "password": "pass-word-1"}
    ).get_json()["token"]
    user.is_active = False
    session.commit()
    assert (
        client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/process-definitions",
        "/api/v1/process-instances",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/messages",
    ):
        assert path in paths, path
