"""An action click whose body the API cannot use is the caller's error (400 naming the key), not
the action's: the action is never run with it."""

from __future__ import annotations

import pytest

ACTION = "/api/chat/actions/action_quotes_last_message"


@pytest.fixture
def server_plugins():
    return ["kind_pipe", "action_quotes_last_message"]


def click(client, **body):
    return client.post(ACTION, json={"model": "kind_pipe", **body})


def test_a_click_with_messages_reaches_the_action(server):
    reply = click(server.client(), messages=[{"role": "assistant", "content": "one two"}])
    assert reply.status_code == 200
    assert reply.json() == {"quoted": "> one two"}


@pytest.mark.parametrize(
    ("messages", "param"),
    [("hello", "messages"), ([1, 2], "messages[0]"), ([None], "messages[0]")],
)
def test_messages_that_are_not_message_objects_are_a_400_naming_them(server, messages, param):
    reply = click(server.client(), messages=messages)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert "plugin" not in error  # the action is not blamed: it never ran


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": 5, "messages": []}, "model"),
        ({"model": "kind_pipe", "chat_id": {"x": 1}}, "chat_id"),
        ({"model": "kind_pipe", "id": ["m1"]}, "id"),
        ({"model": "kind_pipe", "session_id": 3}, "session_id"),
    ],
)
def test_keys_the_api_reads_must_have_their_type(server, body, param):
    reply = server.client().post(ACTION, json=body)
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == param


def test_the_schema_documents_the_click_body(server):
    schema = server.client().get("/openapi.json").json()
    operation = schema["paths"]["/api/chat/actions/{action_id}"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["model"]
    assert body["properties"]["messages"] == {"type": "array", "items": {"type": "object"}}
