"""Chat completion bodies: a key pipehouse reads, of the wrong type, is a 400 naming the key,
before any plugin runs; unknown keys still reach the plugins."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Server, _postgres_database, start_server

HELLO = [{"role": "user", "content": "hello"}]

# (the body's keys besides model and messages, or a whole body) -> the key the 400 names
WRONG: list[tuple[dict, str]] = [
    ({"stream": "yes"}, "stream"),
    ({"stream": 1}, "stream"),
    ({"chat_id": {}}, "chat_id"),
    ({"messages": [{"role": 5, "content": "hi"}]}, "messages[0].role"),
    ({"messages": [{"content": "hi"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": {"text": "hi"}}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]"),
    ({"messages": ["hi"]}, "messages[0]"),
    ({"messages": [*HELLO, None]}, "messages[1]"),
    ({"messages": {"role": "user"}}, "messages"),
    ({"model": 5}, "model"),
    ({"model": ""}, "model"),
    ({"model": ["body_keys_pipe"]}, "model"),
    ({"id": 7}, "id"),
    ({"session_id": ["s"]}, "session_id"),
    ({"stream_options": True}, "stream_options"),
    ({"filter_ids": "filter_trail"}, "filter_ids"),
    ({"filter_ids": [{"id": "filter_trail"}]}, "filter_ids[0]"),
    ({"tool_ids": "calculator"}, "tool_ids"),
    ({"tool_ids": [1]}, "tool_ids[0]"),
    ({"files": {"id": "f"}}, "files"),
    ({"tools": {"type": "function"}}, "tools"),
    ({"metadata": []}, "metadata"),
    ({"metadata": {"chat_id": 5}}, "metadata.chat_id"),
    ({"metadata": {"message_id": {}}}, "metadata.message_id"),
    ({"metadata": {"filter_ids": [3]}}, "metadata.filter_ids[0]"),
    ({"features": "web_search"}, "features"),
    ({"variables": ["x"]}, "variables"),
    ({"params": 0.5}, "params"),
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory) -> Iterator[Server]:
    """One server for the module (on each database): the bodies here change nothing stored."""
    url, drop = (None, None) if request.param == "sqlite" else _postgres_database(migrated=True)
    try:
        yield from start_server(
            tmp_path_factory.mktemp("chat_validation"), url, ["body_keys_pipe", "filter_trail"]
        )
    finally:
        if drop is not None:
            drop()


def plugin_calls(server) -> float:
    """Every call into the pipe and the global filter, from the server's metrics."""
    text = server.client().get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "pipehouse_plugin_calls"
        for sample in family.samples
        if sample.name.endswith("_total")
        and sample.labels["plugin"] in ("body_keys_pipe", "filter_trail")
    )


def seen_by_pipe(reply) -> dict:
    """What the pipe reported, without the mark the filter's outlet appends to the answer."""
    content = reply.json()["choices"][0]["message"]["content"]
    return json.JSONDecoder().raw_decode(content)[0]


def ask(server, **keys):
    body = {"model": "body_keys_pipe", "messages": HELLO, **keys}
    return server.client().post("/v1/chat/completions", json=body)


@pytest.mark.parametrize(("keys", "param"), WRONG, ids=[json.dumps(k) for k, _ in WRONG])
def test_a_key_of_the_wrong_type_is_a_400_naming_it_before_any_plugin_runs(server, keys, param):
    calls = plugin_calls(server)
    reply = ask(server, **keys)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert f"'{param}' must be" in error["message"]
    assert reply.json()["detail"] == error["message"]
    assert plugin_calls(server) == calls  # no plugin saw it
    reply = ask(server)  # while the same request, well typed, reaches both plugins
    assert reply.status_code == 200, reply.text
    assert plugin_calls(server) > calls


def test_the_message_says_what_was_expected_and_what_came(server):
    error = ask(server, stream="yes").json()["error"]
    assert error["message"] == "'stream' must be true or false, not a string"
    error = ask(server, messages=[{"role": 5, "content": "hi"}]).json()["error"]
    assert error["message"] == "'messages[0].role' must be a string, not a number"
    error = ask(server, messages=[{"content": "hi"}]).json()["error"]
    assert error["message"] == "'messages[0].role' must be a string, not missing"


VALID: list[dict] = [
    {"stream": False},
    {"stream": None, "chat_id": None, "metadata": None},  # null is the same as absent
    {"chat_id": "c-1", "id": "m-1", "session_id": "s-1"},
    {"filter_ids": ["filter_trail"], "tool_ids": [], "files": []},
    {"metadata": {"chat_id": "c-2", "message_id": "m-2", "task": "title_generation"}},
    {"stream_options": {"include_usage": True}, "features": {}, "variables": {}, "params": {}},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]},
    {"messages": [{"role": "assistant", "content": None}, *HELLO]},
    {"temperature": 0.2, "seed": 1, "my_plugin_option": {"anything": ["goes"]}},
]


@pytest.mark.parametrize("keys", VALID, ids=lambda keys: ",".join(keys))
def test_valid_bodies_still_reach_the_pipe(server, keys):
    reply = ask(server, **keys)
    assert reply.status_code == 200, reply.text
    seen = seen_by_pipe(reply)
    assert seen["trail"] == ["filter_trail"]


def test_unknown_keys_pass_through_to_plugins(server):
    reply = ask(server, my_plugin_option={"depth": 3}, temperature=0.2)
    seen = seen_by_pipe(reply)
    assert {"my_plugin_option", "temperature"} <= set(seen["keys"])


def test_a_streamed_request_with_a_wrong_key_is_a_400_not_a_stream(server):
    reply = ask(server, stream=True, chat_id=["c"])
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["error"]["param"] == "chat_id"
