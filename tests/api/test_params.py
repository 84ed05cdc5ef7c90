"""Ids and page numbers out of bounds are the caller's error (4xx naming the parameter), never a
500 from the database or the file system, on every route that takes them."""

from __future__ import annotations

import pytest

from pipehouse.api.params import MAX_ID_LENGTH, MAX_PAGE

HUGE_PAGE = "10420971465888964513612422971392"
LONG_ID = "a" * 10_000

PIPE = '''"""
title: Long Id Pipe
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        return "hi"
'''


@pytest.fixture
def server_plugins():
    return ["kind_pipe"]


def field_of(reply) -> list[str]:
    assert reply.status_code == 422, reply.text
    return [error["field"] for error in reply.json()["detail"]]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/files/?content=true&page={HUGE_PAGE}",
        "/api/v1/chats/?page=1067356359795656192",
        "/api/v1/chats/list?page=1067356359795656192",
        f"/api/v1/functions/id/kind_pipe/history?page={HUGE_PAGE}",
        f"/api/v1/tools/id/kind_tools/history?page={HUGE_PAGE}",
        f"/api/v1/files/?page={MAX_PAGE + 1}",
    ],
)
def test_a_page_past_the_limit_is_a_422_naming_it(server, url):
    assert field_of(server.client().get(url)) == ["page"]


def test_the_last_page_allowed_is_simply_empty(server):
    admin = server.client()
    assert admin.get(f"/api/v1/chats/?page={MAX_PAGE}").json() == []
    assert admin.get(f"/api/v1/files/?page={MAX_PAGE}").json()["items"] == []
    history = admin.get(f"/api/v1/functions/id/kind_pipe/history?page={MAX_PAGE}")
    assert history.status_code == 200 and history.json() == []


@pytest.mark.parametrize("kind", ["functions", "tools"])
def test_a_new_plugin_with_a_long_id_is_a_400(server, kind):
    admin = server.client()
    form = {"name": "Long", "content": PIPE, "meta": {"description": ""}}
    reply = admin.post(f"/api/v1/{kind}/create", json={**form, "id": LONG_ID})
    assert reply.status_code == 400
    assert "too long" in reply.json()["detail"]
    longest = "b" * MAX_ID_LENGTH
    if kind == "functions":  # the longest id allowed works all the way: created, then served
        assert admin.post(f"/api/v1/{kind}/create", json={**form, "id": longest}).is_success
        admin.post(f"/api/v1/functions/id/{longest}/toggle")
        answer = admin.post(
            "/v1/chat/completions",
            json={"model": longest, "messages": [{"role": "user", "content": "x"}]},
        )
        assert answer.json()["choices"][0]["message"]["content"] == "hi"


@pytest.mark.parametrize("kind", ["functions", "tools"])
def test_a_new_plugin_id_must_be_an_identifier(server, kind):
    form = {"id": "my-plugin", "name": "x", "content": PIPE, "meta": {"description": ""}}
    reply = server.client().post(f"/api/v1/{kind}/create", json=form)
    assert reply.status_code == 400
    assert "alphanumeric" in reply.json()["detail"]


def test_a_pipelines_upload_whose_name_is_too_long_is_a_400(server):
    name = "p" * (MAX_ID_LENGTH + 1) + ".py"
    reply = server.client().post(
        "/pipelines/upload", files={"file": (name, PIPE.encode(), "text/x-python")}
    )
    assert reply.status_code == 400
    assert "too long" in reply.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/functions/id/{id}"),
        ("POST", "/api/v1/functions/id/{id}/toggle"),
        ("GET", "/api/v1/functions/id/{id}/valves"),
        ("GET", "/api/v1/functions/id/kind_pipe/history/{id}"),
        ("GET", "/api/v1/tools/id/{id}"),
        ("DELETE", "/api/v1/tools/id/{id}"),
        ("GET", "/api/v1/chats/{id}"),
        ("DELETE", "/api/v1/chats/{id}"),
        ("GET", "/api/v1/files/{id}"),
        ("GET", "/api/v1/files/{id}/content"),
        ("GET", "/api/v1/connections/{id}"),
        ("POST", "/api/v1/events/calls/{id}"),
        ("GET", "/{id}/valves"),
        ("POST", "/api/chat/actions/{id}"),
    ],
)
def test_a_long_id_in_a_path_is_a_422(server, method, path):
    reply = server.client().request(method, path.format(id=LONG_ID), json={"model": "kind_pipe"})
    assert reply.status_code == 422, reply.text
    assert len(reply.json()["detail"]) == 1
    assert reply.json()["detail"][0]["type"] == "string_too_long"


def test_a_long_id_in_a_query_or_body_is_a_422(server):
    admin = server.client()
    diff = admin.get(f"/api/v1/functions/id/kind_pipe/history/diff?from_id={LONG_ID}&to_id=x")
    assert field_of(diff) == ["from_id"]
    delete = admin.request("DELETE", "/pipelines/delete", json={"id": LONG_ID})
    assert field_of(delete) == ["id"]
