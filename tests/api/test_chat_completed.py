"""`POST /api/chat/completed` against a real server: the outlet filters of a model over a
finished exchange, as Open WebUI's UI sends it, answered with the body they leave."""

from __future__ import annotations

import pytest

from tests.api.conftest import start_server

ROUTE = "/api/chat/completed"
NOT_FOUND = "We could not find what you're looking for :/"


@pytest.fixture
def server_plugins():
    return ["returns_str", "filter_outlet_edits", "chats_outlet_notes"]


def exchange(**extra) -> dict:
    """The body Open WebUI's UI posts after an answer."""
    return {
        "model": "returns_str",
        "messages": [
            {"id": "u1", "role": "user", "content": "hi", "timestamp": 1},
            {"id": "m1", "role": "assistant", "content": "plain answer", "timestamp": 2},
        ],
        "session_id": "s1",
        "id": "m1",
        **extra,
    }


def test_the_outlets_edit_the_exchange_and_the_body_comes_back(server):
    client = server.client()
    me = client.get("/api/v1/auths/").json()
    reply = client.post(
        ROUTE,
        json=exchange(filter_ids=["chats_outlet_notes"], model_item={"id": "x"}, extra="kept"),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    # both filters, in Open WebUI's order (priority, then id): the toggle one was switched on
    assert body["messages"][-1]["content"] == "edited: plain answer (noted)"
    assert body["messages"][0] == {"id": "u1", "role": "user", "content": "hi", "timestamp": 1}
    assert body["seen"] == {
        "chat_id": None,
        "message_id": "m1",
        "session_id": "s1",
        "user_id": me["id"],
        "filter_ids": ["chats_outlet_notes"],
        "user": me["id"],
        "model": "returns_str",
    }
    assert body["extra"] == "kept" and "model_item" not in body  # the rest as sent

    plain = client.post(ROUTE, json=exchange()).json()
    assert plain["messages"][-1]["content"] == "edited: plain answer"  # no toggle: no notes
    assert "seen" not in plain


def test_a_chat_id_must_be_the_callers_or_unknown(server):
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    chat = ada.post("/api/v1/chats/new", json={"chat": {"title": "Ada's"}}).json()

    own = ada.post(ROUTE, json=exchange(chat_id=chat["id"], filter_ids=["chats_outlet_notes"]))
    assert own.status_code == 200 and own.json()["seen"]["chat_id"] == chat["id"]
    assert ada.get(f"/api/v1/chats/{chat['id']}").json()["chat"]["messages"] == []  # not stored

    theirs = bob.post(ROUTE, json=exchange(chat_id=chat["id"]))
    assert (theirs.status_code, theirs.json()["detail"]) == (404, NOT_FOUND)
    assert bob.post(ROUTE, json=exchange(chat_id="local:temporary")).status_code == 200


def test_bad_requests(server):
    client = server.client()
    assert client.post(ROUTE, content=b"{").status_code == 400
    assert client.post(ROUTE, json=[]).status_code == 400
    assert client.post(ROUTE, json=exchange(messages="hi")).status_code == 400
    assert client.post(ROUTE, json=exchange(filter_ids="chats_outlet_notes")).status_code == 400
    unknown = client.post(ROUTE, json=exchange(model="no_such_model"))
    assert unknown.status_code == 404
    assert server.client(key=None).post(ROUTE, json=exchange()).status_code == 401


@pytest.fixture
def raising_server(tmp_path, database_url):
    yield from start_server(tmp_path, database_url, ["returns_str", "filter_outlet_raises"])


def test_a_failing_outlet_is_an_error_naming_it(raising_server):
    reply = raising_server.client().post(ROUTE, json=exchange())
    assert reply.status_code == 502
    error = reply.json()["error"]
    assert (error["plugin"], error["stage"]) == ("filter_outlet_raises", "outlet")
    assert "outlet exploded" in error["message"]
