"""The `open_webui.*` import surface on a real server (SQLite and PostgreSQL): fixture plugins
that use Users, Files, Storage, upload_file_handler, Chats, Functions, Tools, get_tools,
internal.db and generate_chat_completion the way community plugins do, in the Open WebUI
0.12.4 (await) style and the older sync style, from async code and from worker threads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipehouse.compat import services as compat_services
from tests.conftest import content_of, parse_sse

COMPLETIONS = "/v1/chat/completions"


@pytest.fixture
def server_plugins():
    return [
        "compat_asks_model",
        "compat_asks_model_legacy",
        "compat_users_sync",
        "compat_users_async",
        "compat_users_awaited_forms",
        "compat_files_async",
        "compat_files_legacy",
        "compat_files_thread",
        "compat_chats",
        "compat_chats_thread",
        "compat_plugin_tables",
        "compat_get_tools",
        "compat_get_tools_events",
        "compat_db_session",
        "returns_str",
        "returns_async_generator",
        "tools_math",
        "tools_with_valves",
    ]


def ask(client, model: str, prompt: str = "hello", **extra) -> str:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    reply = client.post(COMPLETIONS, json=body | extra)
    assert reply.status_code == 200, reply.text
    return reply.json()["choices"][0]["message"]["content"]


def report(client, model: str, prompt: str = "hello", **extra) -> dict:
    return json.loads(ask(client, model, prompt, **extra))


def test_generate_chat_completion_reaches_another_pipe_in_both_styles(server):
    client = server.client()
    assert ask(client, "compat_asks_model", "returns_str hi") == "asked as admin: plain answer"
    with client.stream(
        "POST",
        COMPLETIONS,
        json={
            "model": "compat_asks_model",
            "stream": True,
            "messages": [{"role": "user", "content": "returns_async_generator hi"}],
        },
    ) as response:
        streamed = parse_sse(b"".join(response.iter_bytes()))
    assert content_of(streamed) == "streamed as admin: Hello, world"
    # 0.5/0.6 style: Users.get_user_by_id without await in async code, generate_chat_completions
    inline = server.app.state.executor.mode_of("compat_asks_model_legacy") == "inline"
    assert not compat_services.current().side.started
    assert ask(client, "compat_asks_model_legacy", "returns_str hi") == "Admin asked: plain answer"
    # inline, the sync call ran on the side loop; isolated, the worker's loop waited for the
    # server over its sync channel (docs/isolation.md, "Modes")
    assert compat_services.current().side.started is inline


def test_users_from_sync_code_and_async_code(server):
    client = server.client(server.user_key("ada@example.com"))
    seen = report(client, "compat_users_sync")
    assert seen["me"]["email"] == "ada@example.com"
    assert seen["me"]["role"] == "user"
    assert seen["same"] is True and seen["nobody_is_none"] is True
    assert seen["listed"] == ["ada@example.com", "admin@localhost"]
    assert seen["total"] == 2

    changed = report(client, "compat_users_async")
    assert changed == {
        "me": "ada@example.com",
        "nobody_is_none": True,
        "theme": "dark",
        "many": [seen["me"]["id"]],
    }
    stored = server.call(server.app.state.accounts.user_by_email("ada@example.com"))
    assert stored.settings["ui"] == {"theme": "dark"}


def test_files_stored_with_storage_and_insert_new_file_are_served(server):
    client = server.client()
    seen = report(client, "compat_files_async", "bytes of a generated note")
    assert seen["in_upload_dir"] is True
    # the server's upload directory, from a worker too (not a scratch one of the worker's)
    assert Path(seen["upload_dir"]).is_relative_to(server.data_dir.resolve())
    assert seen["read_back"] == "bytes of a generated note"
    assert seen["data"] == {"status": "completed"}
    assert seen["meta"]["content_type"] == "text/plain"
    assert seen["mine"] == [seen["id"]]
    assert seen["missing_is_none"] is True
    content = client.get(seen["url"])
    assert content.status_code == 200
    assert content.content == b"bytes of a generated note"


def test_upload_file_handler_called_without_await_inside_async_code(server):
    client = server.client()
    seen = report(client, "compat_files_legacy")
    assert seen["awaitable_too"] is True
    assert seen["meta"]["name"] == "generated-image.png"
    assert seen["meta"]["content_type"] == "image/png"
    assert seen["meta"]["data"] == {"source": "legacy"}
    assert client.get(seen["url"]).content == b"\x89PNG not really"
    listed = client.get("/api/v1/files/").json()["items"]
    assert [f["id"] for f in listed] == [seen["id"]]


def test_upload_file_from_a_worker_thread_with_the_old_argument_order(server):
    client = server.client(server.user_key())
    seen = report(client, "compat_files_thread")
    assert seen["status"] is True
    assert seen["content"] == "hello from a thread"
    assert seen["metadata"] == {"source": "thread"}
    assert seen["listed"] == [seen["id"]]
    assert client.get(f"/api/v1/files/{seen['id']}/content").content == b"hello from a thread"


def test_table_methods_awaited_through_wait_for_gather_and_a_conditional(server):
    # Each is a coroutine on the server's loop: no sync call holding the loop, no `await` of an
    # int or of None.
    seen = report(server.client(), "compat_users_awaited_forms")
    assert seen["count"] >= 1
    assert seen["me"] == "admin@localhost"
    assert seen["nobody"] is None and seen["later"] is None
    assert seen["found"]


def test_chats_read_and_annotated_from_the_chat_being_answered(server):
    client = server.client()
    chat = client.post("/api/v1/chats/new", json={"chat": {"title": "Plans"}}).json()
    seen = report(client, "compat_chats", chat_id=chat["id"])
    assert seen["is_model"] is True
    assert seen["title"] == "Plans"
    assert seen["same"] is True
    assert seen["note"] == "noted"
    assert seen["mine"] == [chat["id"]]
    assert seen["missing_is_none"] is True
    assert "must be awaited" in seen["refused"]
    assert seen["table"] == "chat"
    stored = client.get(f"/api/v1/chats/{chat['id']}").json()
    assert stored["chat"]["history"]["messages"]["note-1"]["content"] == "noted"

    assert ask(client, "compat_chats_thread", chat_id=chat["id"]) == "Renamed from a thread"
    assert client.get(f"/api/v1/chats/{chat['id']}").json()["title"] == "Renamed from a thread"


def test_function_and_tool_tables(server):
    client = server.client()
    seen = report(client, "compat_plugin_tables")
    assert seen["me"] == ["compat_plugin_tables", "pipe", True]
    assert "compat_plugin_tables" in seen["every"] and "tools_math" not in seen["every"]
    assert "returns_str" in seen["pipes"]
    assert seen["valves"] == {"greeting": "hello"}
    assert seen["toolkit"] == ["tools_math", ["add"]]
    assert seen["toolkits"] == ["tools_math", "tools_with_valves"]
    assert "must be awaited" in seen["refused"]
    assert seen["user_valves"] == {}
    valves = client.get("/api/v1/functions/id/compat_plugin_tables/valves").json()
    assert valves == {"greeting": "hello"}


@pytest.mark.parametrize("server_settings", [{"isolation": "inline"}])  # the session: inline
def test_a_database_session(server):
    assert ask(server.client(), "compat_db_session") == "1 users; I am admin@localhost"


@pytest.mark.parametrize(
    "server_settings",
    [{"isolation": mode, "inline_events": True} for mode in ("inline", "isolated")],
    ids=["inline", "isolated"],
)
def test_get_tools_builds_toolkits_whose_callables_run_them(server, server_settings):
    client = server.client()
    assert ask(client, "compat_get_tools") == "tools: ['add']; 2 + 3 = 5"
    body = {"model": "compat_get_tools_events", "messages": [{"role": "user", "content": "go"}]}
    reply = client.post(COMPLETIONS, json={**body, "stream": True})
    assert reply.status_code == 200, reply.text
    payloads = parse_sse(reply.content)
    seen = json.loads(content_of(payloads))
    assert (seen["pid"] == os.getpid()) is (server_settings["isolation"] == "inline")
    assert (seen["tool_id"], seen["spec"], seen["citation"]) == (
        "tools_with_valves",
        "report",
        False,
    )
    assert seen["doc"].startswith("Report what this call received.")
    report = seen["seen"]
    assert (report["topic"], report["count"], report["city"]) == ("cats", 2, "Paris")
    assert (report["id"], report["messages"]) == ("tools_with_valves", 1)
    events = [p["event"] for p in payloads if isinstance(p, dict) and "event" in p]
    statuses = [e["data"]["description"] for e in events if e["type"] == "status"]
    assert statuses == ["reporting"]  # the toolkit's event, through the emitter passed in
