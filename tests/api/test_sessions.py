"""Console sessions (api/sessions.py): a signed-in browser's cookie stands for its key on every
route, fast lane included; anything that changes state also needs the CSRF token; no console
page or API answers without a session."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

HELLO = [{"role": "user", "content": "hi"}]
PAGE_PATHS = {"/", "/plugins", "/plugins/new", "/plugins/{table}/{plugin_id}", "/playground",
              "/connections", "/users", "/docs"}  # fmt: skip


@pytest.fixture
def server_plugins():
    return ["cli_status_pipe"]


def every_route(routes):
    """Routes, those of included routers too (FastAPI 0.165 keeps an included router whole)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes)
        else:
            yield route


def signed_in(server) -> tuple[httpx.Client, str]:
    """A cookie-holding client signed in as the admin, and its CSRF token."""
    browser = httpx.Client(base_url=server.base_url, timeout=30)
    server._clients.append(browser)
    reply = browser.post("/login", data={"key": server.admin_key, "next": "/plugins"})
    assert reply.status_code == 303 and reply.headers["location"] == "/plugins"
    page = browser.get("/plugins").text
    return browser, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_every_console_route_needs_a_session(server):
    """The auth route scan for what the schema does not list: every console page sends a
    stranger to sign in, every console API answers 401; static assets are public."""
    stranger = server.client(key=None)
    forged = server.client(key=None, headers={"Cookie": "ph_session=made-up-session-id"})
    checked = set()
    for route in every_route(server.app.routes):
        if isinstance(route, Mount):
            assert route.path.startswith("/static/"), route.path  # only assets are mounted
            continue
        if not isinstance(route, APIRoute) or route.include_in_schema or route.path == "/login":
            continue  # the schema's routes have their own scan (test_auth.py)
        url = re.sub(r"\{[^}]+\}", "some-id", route.path)
        for method in route.methods - {"HEAD"}:
            for client in (stranger, forged):
                reply = client.request(method, url)
                if method == "GET" and route.path in PAGE_PATHS:
                    assert reply.status_code == 303, (method, route.path, reply.text)
                    assert reply.headers["location"].startswith("/login?next=")
                else:
                    assert reply.status_code == 401, (method, route.path, reply.text)
                checked.add(route.path)
    assert PAGE_PATHS | {"/logout", "/console/api/users", "/console/api/keys"} <= checked
    assert stranger.get("/static/console/console.css").status_code == 200


def test_a_session_cookie_works_where_a_key_does(server):
    browser, csrf = signed_in(server)
    assert browser.get("/v1/models").status_code == 200  # the fast lane
    assert browser.get("/api/v1/plugins").status_code == 200  # FastAPI's routes
    answer = browser.post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO},
        headers={"X-Pipehouse-CSRF": csrf},
    )
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "echo: hi [user]"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/chat/completions", {"model": "cli_status_pipe", "messages": HELLO}),
        ("POST", "/api/v1/functions/id/cli_status_pipe/valves/update", {"repeat": 3}),
        ("POST", "/console/api/keys", {"email": "mallory@example.com"}),
        ("DELETE", "/api/v1/functions/id/cli_status_pipe", None),
    ],
)
def test_a_change_made_with_the_cookie_needs_the_csrf_token(server, method, path, body):
    browser, _ = signed_in(server)
    for token in (None, "not-the-token"):
        headers = {"X-Pipehouse-CSRF": token} if token else {}
        reply = browser.request(method, path, json=body, headers=headers)
        assert reply.status_code == 403, reply.text
        assert "CSRF" in reply.json()["detail"]
    admin = server.client()
    assert admin.get("/api/v1/functions/id/cli_status_pipe").status_code == 200
    assert admin.get("/api/v1/functions/id/cli_status_pipe/valves").json() == {}


def test_signing_in_from_another_site_is_refused(server):
    browser = httpx.Client(base_url=server.base_url, timeout=30)
    server._clients.append(browser)
    reply = browser.post(
        "/login", data={"key": server.admin_key}, headers={"Origin": "https://evil.example"}
    )
    assert reply.status_code == 403
    assert "ph_session" not in reply.headers.get("set-cookie", "")


def test_a_key_made_in_the_console_is_shown_once_and_works(server):
    browser, csrf = signed_in(server)
    made = browser.post(
        "/console/api/keys",
        json={"email": "ada@example.com", "name": "laptop"},
        headers={"X-Pipehouse-CSRF": csrf},
    ).json()
    ada = server.client(key=made["key"])
    assert ada.get("/v1/models").status_code == 200
    listed = browser.get("/console/api/users").text
    assert made["prefix"] in listed and made["key"] not in listed
    assert ada.get("/console/api/users").status_code == 403  # for admins only
