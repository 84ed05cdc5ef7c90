"""`GET /api/v1/auths/` against a real server: the caller's own user in Open WebUI 0.12.4's
`SessionUserResponse` shape, never anyone else's, and no token echoed back."""

from __future__ import annotations

SESSION_USER = {
    "token",
    "token_type",
    "expires_at",
    "id",
    "email",
    "name",
    "role",
    "profile_image_url",
    "bio",
    "gender",
    "date_of_birth",
    "status_emoji",
    "status_message",
    "status_expires_at",
    "permissions",
}


def test_each_caller_gets_their_own_user(server):
    key = server.user_key("ada@example.com")
    ada = server.client(key).get("/api/v1/auths/")
    admin = server.client().get("/api/v1/auths/")
    assert ada.status_code == admin.status_code == 200
    ada, admin = ada.json(), admin.json()
    assert set(ada) == set(admin) == SESSION_USER
    assert (ada["email"], ada["name"], ada["role"]) == ("ada@example.com", "ada", "user")
    assert (admin["role"], admin["name"]) == ("admin", "Admin")
    assert ada["id"] != admin["id"]
    assert ada["token"] is None and ada["token_type"] == "Bearer"  # the key is not echoed
    assert key not in str(ada)
    assert ada["profile_image_url"] == "/user.png" and ada["permissions"] == {}
    assert server.client().get("/api/v1/auths").json() == admin  # without the slash too


def test_no_or_a_bad_key_is_401(server):
    assert server.client(key=None).get("/api/v1/auths/").status_code == 401
    assert server.client(key="ph-nope").get("/api/v1/auths/").status_code == 401
