"""Native tool calling over a real server: the model (a mock upstream) asks for tools, pipehouse
runs the toolkits named in `tool_ids` and feeds the results back until the model answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from tests.api.conftest import start_server
from tests.conftest import content_of, parse_sse
from tests.support.mock_upstream import MockUpstream

TOOLKITS = ["tools_math", "tools_rendezvous", "tools_raises", "tools_pipe_calls_add"]


@pytest.fixture
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream(models=["mock-small"]) as mock:
        yield mock


@pytest.fixture
def server(tmp_path, upstream, monkeypatch) -> Iterator:
    monkeypatch.setenv("OPENAI_API_BASE_URL", upstream.base_url)
    yield from start_server(tmp_path, None, TOOLKITS, max_tool_rounds=3)


def ask(tool_ids: list[str], **extra) -> dict:
    return {
        "model": "mock-small",
        "messages": [{"role": "user", "content": "what is 1 + 2, then 3 + 4?"}],
        "tool_ids": tool_ids,
        **extra,
    }


def add(a: int, b: int) -> dict:
    return {"name": "add", "arguments": {"a": a, "b": b}}


def tool_messages(request) -> list[dict]:
    return [m for m in request.body["messages"] if m["role"] == "tool"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_two_step_tool_chain_ends_in_the_models_answer(server, upstream, stream):
    upstream.reply(tool_calls=[add(1, 2)])
    upstream.reply(tool_calls=[add(3, 4)])
    upstream.reply("The answers are 3 and 7.")
    reply = server.client().post("/v1/chat/completions", json=ask(["tools_math"], stream=stream))
    assert reply.status_code == 200, reply.text
    if stream:
        text = content_of(parse_sse(reply.content))
        assert "tool_calls" not in reply.text  # the client never sees calls it should not run
    else:
        text = reply.json()["choices"][0]["message"]["content"]
    assert text == "The answers are 3 and 7."
    first, second, third = upstream.chat_requests
    assert [t["function"]["name"] for t in first.body["tools"]] == ["add"]
    assert [m["content"] for m in tool_messages(second)] == ["3"]
    assert [m["content"] for m in tool_messages(third)] == ["3", "7"]
    assistant = [m for m in third.body["messages"] if m["role"] == "assistant"]
    assert [m["tool_calls"][0]["function"]["name"] for m in assistant] == ["add", "add"]
    assert upstream.connections == 1  # each round's answer read to its end: one kept-alive


def test_parallel_tool_calls_run_at_the_same_time(server, upstream):
    # each tool waits (1 s at most) for the other to start: run one after the other, both fail
    upstream.reply(
        tool_calls=[{"name": "ping", "arguments": {}}, {"name": "pong", "arguments": {}}]
    )
    upstream.reply("both answered")
    reply = server.client().post("/v1/chat/completions", json=ask(["tools_rendezvous"]))
    assert reply.status_code == 200, reply.text
    results = tool_messages(upstream.chat_requests[1])
    assert [m["content"] for m in results] == ["ping", "pong"]


def test_a_failing_tool_is_reported_to_the_model_and_the_chat_goes_on(server, upstream):
    upstream.reply(tool_calls=[{"name": "explode", "arguments": {"reason": "out of fuel"}}])
    upstream.reply("The tool failed, sorry.")
    reply = server.client().post("/v1/chat/completions", json=ask(["tools_raises"]))
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "The tool failed, sorry."
    (result,) = tool_messages(upstream.chat_requests[1])
    assert "out of fuel" in json.loads(result["content"])["error"]


def test_the_round_cap_makes_the_model_answer_without_tools(server, upstream):
    for _ in range(3):
        upstream.reply(tool_calls=[add(1, 1)])
    upstream.reply("I give up calling tools.")
    reply = server.client().post("/v1/chat/completions", json=ask(["tools_math"], stream=True))
    assert content_of(parse_sse(reply.content)) == "I give up calling tools."
    requests = upstream.chat_requests
    assert len(requests) == 4  # three rounds with tools (max_tool_rounds=3), then one without
    assert ["tools" in r.body for r in requests] == [True, True, True, False]


def test_tool_progress_reaches_the_client_as_events(server, upstream):
    upstream.reply(tool_calls=[add(2, 2)])
    upstream.reply("4")
    body = ask(["tools_math"], stream=True, metadata={"events": "inline"})
    payloads = parse_sse(server.client().post("/v1/chat/completions", json=body).content)
    statuses = [p["event"]["data"] for p in payloads if "event" in p]
    assert [s["done"] for s in statuses] == [False, True]
    assert "add" in statuses[0]["description"]


def test_events_come_between_the_rounds_they_happened_between(server, upstream):
    """Each round's answer arrives in one network read (handed through pipehouse as one
    batch): its words still come before the tools' events, and the next round's after."""
    whole = {"split_bytes": 1 << 20}
    upstream.reply("Let me add.", tool_calls=[add(2, 2)], **whole)
    upstream.reply("It is 4.", **whole)
    body = ask(["tools_math"], stream=True, metadata={"events": "inline"})
    payloads = parse_sse(server.client().post("/v1/chat/completions", json=body).content)
    seen = []
    for payload in payloads[:-1]:  # the last is [DONE]
        if "event" in payload:
            seen.append("event")
        elif payload["choices"][0]["delta"].get("content"):  # not the role or finish chunk
            seen.append(payload["choices"][0]["delta"]["content"])
    assert seen == ["Let", " me", " add.", "event", "event", "It", " is", " 4."]


def test_a_request_with_its_own_tools_is_passed_through_untouched(server, upstream):
    own = [{"type": "function", "function": {"name": "client_side", "parameters": {}}}]
    upstream.reply(tool_calls=[{"name": "client_side", "arguments": {}}])
    answer = openai.OpenAI(
        base_url=f"{server.base_url}/v1", api_key=server.admin_key, max_retries=0
    ).chat.completions.create(
        model="mock-small",
        messages=[{"role": "user", "content": "hi"}],
        tools=own,
        extra_body={"tool_ids": ["tools_math"]},
    )
    assert answer.choices[0].message.tool_calls[0].function.name == "client_side"
    assert upstream.chat_requests[-1].body["tools"] == own


def test_a_pipe_calls_tools_itself_through_dunder_tools(server):
    body = {
        "model": "tools_pipe_calls_add",
        "messages": [{"role": "user", "content": "go"}],
        "tool_ids": ["tools_math"],
    }
    reply = server.client().post("/v1/chat/completions", json=body)
    assert reply.json()["choices"][0]["message"]["content"] == "1 + 2 = 3"


def test_unknown_tool_ids_are_a_clear_400(server):
    reply = server.client().post("/v1/chat/completions", json=ask(["no_such_toolkit"]))
    assert reply.status_code == 400
    assert "no_such_toolkit" in reply.json()["error"]["message"]


# -- the proxy path's guarantees hold through the tool loop (issue 17) ---------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_an_upstream_refusing_the_first_round_is_an_http_error(server, upstream, stream):
    upstream.reply(status=429, error="slow down")
    reply = server.client().post("/v1/chat/completions", json=ask(["tools_math"], stream=stream))
    assert reply.status_code == 429, reply.text
    error = reply.json()["error"]
    assert "slow down" in error["message"] and error["type"] == "upstream_error"


@pytest.mark.parametrize("stream", [False, True])
def test_usage_is_the_last_rounds_and_a_stream_ends_with_one_done(server, upstream, stream):
    """Each round asks the upstream for usage; the client gets the upstream's own report of
    the round that answered (as Open WebUI's loop keeps the last), once, last."""
    upstream.reply(tool_calls=[add(1, 2)], usage={"prompt_tokens": 5, "completion_tokens": 1})
    final = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
    upstream.reply("It is 3.", usage=final)
    body = ask(["tools_math"], stream=stream)
    if stream:
        body["stream_options"] = {"include_usage": True}
    reply = server.client().post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    if not stream:
        assert reply.json()["usage"] == final
        return
    assert all(r.body["stream_options"] == {"include_usage": True} for r in upstream.chat_requests)
    payloads = parse_sse(reply.content)
    assert reply.content.count(b"[DONE]") == 1 and payloads[-1] == "[DONE]"
    assert [p["usage"] for p in payloads[:-1] if p.get("usage")] == [final]
    assert payloads[-2]["usage"] == final and payloads[-2]["choices"] == []
    assert content_of(payloads) == "It is 3."


def test_a_client_that_leaves_during_a_later_round_stops_the_upstream(server, upstream):
    upstream.reply(tool_calls=[add(1, 2)])
    upstream.reply("word " * 400, chunk_delay=0.02)  # 8 s if nobody stops it
    server.leave_stream(ask(["tools_math"], stream=True), once_seen=b"word")  # round 2 streams
    assert upstream.wait_for_disconnect_blocking(5)
    assert len(upstream.chat_requests) == 2 and not upstream.chat_requests[1].finished
