"""Console sessions (api/sessions.py, store/console_sessions.py): a signed-in browser's cookie
stands for its key on every route, fast lane included; anything that changes state also needs
the CSRF token; no console page or API answers without a session; sessions live in the
database, so they survive a restart and any replica honours them (and their end)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount

from pipehouse.store.accounts import display_prefix
from pipehouse.store.models import ConsoleSession
from tests.api.conftest import _postgres_database, start_server
from tests.support.polling import eventually

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


def session_cookie(browser: httpx.Client) -> dict[str, str]:
    """The browser's cookie header, to send to another server (another port, same host)."""
    return {"Cookie": f"ph_session={browser.cookies['ph_session']}"}


def test_a_session_survives_a_server_restart(tmp_path, database_url):
    first = start_server(tmp_path, database_url, ["cli_status_pipe"])
    server = next(first)
    browser, csrf = signed_in(server)
    cookie = session_cookie(browser)
    stored = server.call(all_session_rows(server))
    assert len(stored) == 1 and browser.cookies["ph_session"] not in str(stored)  # a hash only
    first.close()  # the server stops: nothing of the session is left in memory

    again = start_server(tmp_path, database_url, ["cli_status_pipe"])
    restarted = next(again)
    try:
        same_browser = restarted.client(key=None, headers=cookie)
        assert same_browser.get("/api/v1/plugins").status_code == 200
        page = same_browser.get("/plugins")
        assert page.status_code == 200 and f'content="{csrf}"' in page.text  # same CSRF token
        answer = same_browser.post(
            "/v1/chat/completions",
            json={"model": "cli_status_pipe", "messages": HELLO},
            headers={"X-Pipehouse-CSRF": csrf},
        )
        assert answer.status_code == 200
    finally:
        again.close()


def test_signing_out_on_one_replica_ends_the_session_on_the_other(tmp_path):
    database, drop = _postgres_database()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    replica_a = start_server(tmp_path / "a", database, [], auth_cache_ttl=0.2)
    replica_b = start_server(tmp_path / "b", database, [], auth_cache_ttl=0.2)
    try:
        a, b = next(replica_a), next(replica_b)
        browser, csrf = signed_in(a)
        cookie = session_cookie(browser)
        on_b = b.client(key=None, headers=cookie)
        assert on_b.get("/api/v1/plugins").status_code == 200  # no sticky sessions

        assert browser.post("/logout", headers={"X-Pipehouse-CSRF": csrf}).status_code == 204
        on_a = a.client(key=None, headers=cookie)  # the old cookie, kept by someone
        assert on_a.get("/api/v1/plugins").status_code == 401  # at once where it was ended
        eventually(
            lambda: on_b.get("/api/v1/plugins").status_code == 401,
            what="the other replica refusing the ended session",
        )
        assert on_b.get("/plugins").status_code == 303  # its pages send the browser to sign in
    finally:
        replica_b.close()
        replica_a.close()
        drop()


def test_revoking_the_key_ends_its_sessions(tmp_path, database_url):
    running = start_server(tmp_path, database_url, [], auth_cache_ttl=0.2)
    server = next(running)
    try:
        key = server.user_key("ada@example.com")
        browser = httpx.Client(base_url=server.base_url, timeout=30)
        server._clients.append(browser)
        assert browser.post("/login", data={"key": key}).status_code == 303
        assert browser.get("/api/v1/functions/").status_code == 200
        server.call(server.app.state.accounts.revoke_key(display_prefix(key)))
        eventually(
            lambda: browser.get("/api/v1/functions/").status_code == 401,
            what="the session of a revoked key refused",
        )
    finally:
        running.close()


async def all_session_rows(server) -> list[tuple]:
    async with server.app.state.db.session() as session:
        return [tuple(row) for row in (await session.execute(select(ConsoleSession))).all()]
