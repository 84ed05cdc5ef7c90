"""Generated images stored with `open_webui.routers.images` and plugins' own tables made with
`open_webui.internal.db`, on a real server (SQLite and PostgreSQL), inline and isolated.

Isolated, the image's bytes cross into the server whole (runtime/workers/protocol.py); the
server's database engine cannot cross into a worker, so a plugin that makes its own tables
fails to load there saying to run it inline, and works once an admin sets it inline
(docs/isolation.md, "Modes")."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

COMPLETIONS = "/v1/chat/completions"
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


@pytest.fixture(params=["inline", "isolated"])
def server_settings(request):
    return {"isolation": request.param}


@pytest.fixture
def server_plugins():
    return ["compat_image_generator", "compat_own_table"]


def ask(client, model: str) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": "go"}]}
    reply = client.post(COMPLETIONS, json=body)
    assert reply.status_code == 200, reply.text
    return json.loads(reply.json()["choices"][0]["message"]["content"])


def test_upload_image_stores_a_generated_image_as_a_file(server):
    client = server.client(server.user_key("ada@example.com"))
    seen = ask(client, "compat_image_generator")
    assert seen["content_type"] == "image/png"
    assert seen["bare_type"] == "image/png"  # bare base64: the type read from the bytes
    assert seen["same_bytes"] is True
    assert seen["broken"] == [None, None]
    image = seen["image"]
    assert image["id"] == seen["file_id"]
    assert image["name"] == "generated-image.png"
    assert image["content_type"] == "image/png"
    assert seen["meta_data"] == {"prompt": "a cat"}
    content = client.get(image["url"])
    assert content.status_code == 200
    assert content.content == PNG
    listed = client.get("/api/v1/files/").json()["items"]
    assert [f["id"] for f in listed] == [image["id"]]


def test_a_plugin_creates_and_uses_a_table_of_its_own(server, server_settings):
    client = server.client(server.user_key("ada@example.com"))
    if server_settings["isolation"] == "isolated":  # it loads, and says how to make it work
        body = {"model": "compat_own_table", "messages": [{"role": "user", "content": "go"}]}
        refused = client.post(COMPLETIONS, json=body)
        error = refused.json()["error"]
        assert (refused.status_code, error["code"]) == (502, "InlineOnly")
        message = error["message"]
        assert "open_webui.internal.db.engine" in message
        assert "cannot cross into the worker process" in message
        assert "POST /api/v1/isolation/" in message and '{"mode": "inline"}' in message
        admin = server.client(server.admin_key)
        moved = admin.post("/api/v1/isolation/compat_own_table", json={"mode": "inline"})
        assert moved.status_code == 200, moved.text
    first = ask(client, "compat_own_table")
    assert first == {
        "count": 1,
        "details": {"model": "compat_own_table", "words": ["ledger", "entry"]},
    }
    assert ask(client, "compat_own_table")["count"] == 2

    async def rows() -> int:
        async with server.app.state.db.session() as session:
            return await session.scalar(text("SELECT count(*) FROM usage_ledger_entry"))

    assert server.call(rows()) == 2
