"""Stream filters run under the call timeout too (issue 11, point 8), over HTTP, inline and in a
worker: with call and idle timeouts at 0.5 s (5 s in a worker), a stream filter that never
returns ends the answer with a Timeout error frame naming the filter and its `stream` hook,
instead of keeping the response open; the server then serves the next request."""

from __future__ import annotations

import pytest

from tests.conftest import content_of, parse_sse

HELLO = [{"role": "user", "content": "hi"}]
PIPE = "timeout_slow_but_steady"


# Inline, the 0.5 s. In a worker, loading a plugin (starting its worker, importing it)
# is a call under the same deadline, which a busy machine can miss at 0.5 s; 5 s still ends the
# stuck filter (it would wait forever) and keeps the test about the stream hook.
TIMEOUTS = {"inline": 0.5, "isolated": 5.0}


@pytest.fixture(params=list(TIMEOUTS))
def server_settings(request):
    limit = TIMEOUTS[request.param]
    return {"isolation": request.param, "call_timeout": limit, "idle_timeout": limit}


@pytest.fixture
def server_plugins():
    return [PIPE, "timeout_stuck_stream_filter", "timeout_stuck_stream_filter_sync"]


def toggle_global(client, plugin_id: str) -> bool:
    reply = client.post(f"/api/v1/functions/id/{plugin_id}/toggle/global")
    assert reply.status_code == 200, reply.text
    return reply.json()["is_global"]


def streamed(client) -> list:
    reply = client.post(
        "/v1/chat/completions", json={"model": PIPE, "messages": HELLO, "stream": True}
    )
    assert reply.status_code == 200, reply.text
    return parse_sse(reply.content)


@pytest.mark.parametrize(
    "stuck", ["timeout_stuck_stream_filter", "timeout_stuck_stream_filter_sync"]
)
def test_a_stuck_stream_filter_ends_the_stream_with_a_timeout_naming_it(server, stuck):
    client = server.client()
    for plugin_id in ("timeout_stuck_stream_filter", "timeout_stuck_stream_filter_sync"):
        if toggle_global(client, plugin_id) != (plugin_id == stuck):
            toggle_global(client, plugin_id)  # only the filter under test runs

    payloads = streamed(client)
    error = payloads[-2]["error"]
    assert (error["code"], error["plugin"], error["stage"]) == ("Timeout", stuck, "stream")
    assert payloads[-1] == "[DONE]"

    toggle_global(client, stuck)  # off: the server answers the next stream in full
    assert content_of(streamed(client)) == "".join(f"{n} " for n in range(10))
