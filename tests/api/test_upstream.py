"""Upstream models through a real pipehouse server: listed, proxied both ways, wrapped by
filters, and every way an upstream can fail reaching the client as a clear error."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
import pytest

from tests.api.conftest import Server, start_server
from tests.conftest import content_of, parse_sse
from tests.support.mock_upstream import MockUpstream, RecordedRequest, dead_base_url
from tests.support.polling import eventually

KEY = "sk-upstream-secret-0123456789"


@pytest.fixture
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream(api_key=KEY, models=["mock-small", "mock-large"]) as mock:
        yield mock


@pytest.fixture
def server(tmp_path, upstream, monkeypatch) -> Iterator:
    """SQLite is enough here: nothing of this path touches the database per request."""
    monkeypatch.setenv("OPENAI_API_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield from start_server(
        tmp_path, None, ["filter_trail", "returns_str", "host_calls_model"], upstream_timeout=2.0
    )


def sdk(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.admin_key, max_retries=0)


def ask(text: str = "hello upstream", **extra) -> dict:
    return {"model": "mock-small", "messages": [{"role": "user", "content": text}], **extra}


def test_upstream_models_are_listed_beside_pipes(server):
    ids = [m.id for m in sdk(server).models.list().data]
    assert {"mock-small", "mock-large", "returns_str"} <= set(ids)


def test_a_completion_is_proxied_with_the_upstream_key_and_filters_around_it(server, upstream):
    answer = sdk(server).chat.completions.create(**ask())
    # the echo came back, edited by the global filter's outlet
    assert answer.choices[0].message.content == "hello upstream<filter_trail>"
    sent = upstream.chat_requests[-1]
    assert (
        sent.authorization == f"Bearer {KEY}"
    )  # pipehouse's key for the upstream, not the caller's
    assert sent.body["trail"] == ["filter_trail"]  # the inlet ran before the upstream saw the body
    assert "metadata" not in sent.body and "filter_ids" not in sent.body


def test_a_stream_is_proxied_chunk_by_chunk_under_one_id(server, upstream):
    upstream.reply("one two three")
    chunks = list(sdk(server).chat.completions.create(**ask(), stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # every text chunk went through the stream filter, and the outlet's suffix came last
    assert text.replace("[filter_trail]", "") == "one two three<filter_trail>"
    assert text.count("[filter_trail]") >= 2
    assert len({c.id for c in chunks}) == 1
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.role) == 1  # one opening
    assert upstream.chat_requests[-1].body["stream"] is True


def test_a_stream_filter_sees_every_chunk_in_order_when_they_arrive_together(server, upstream):
    upstream.reply("one two three four", split_bytes=1 << 20)  # the whole answer in one read
    chunks = list(sdk(server).chat.completions.create(**ask(), stream=True))
    words = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    # the filter marked each word on its own, in the order the upstream sent them
    marked = ["one[filter_trail]", " two[filter_trail]", " three[filter_trail]"]
    assert words == [*marked, " four[filter_trail]", "<filter_trail>"]
    assert len({c.id for c in chunks}) == 1
    assert sum(1 for c in chunks if c.choices and c.choices[0].finish_reason) == 1


def test_a_prefixed_connection_lists_and_routes_by_prefix(tmp_path, upstream, monkeypatch):
    monkeypatch.delenv("OPENAI_API_BASE_URL", raising=False)
    for running in start_server(tmp_path, None, []):
        admin = running.client()
        created = admin.post(
            "/api/v1/connections",
            json={"id": "mock", "base_url": upstream.base_url, "api_key": KEY, "prefix": "m"},
        )
        assert created.status_code == 200, created.text
        ids = {m["id"] for m in admin.get("/v1/models").json()["data"]}
        assert {"m.mock-small", "m.mock-large"} <= ids
        reply = admin.post("/v1/chat/completions", json=ask(model="m.mock-large"))
        assert reply.status_code == 200, reply.text
        assert upstream.chat_requests[-1].body["model"] == "mock-large"


@pytest.mark.parametrize(
    ("scripted", "status", "words"),
    [
        ({"status": 500, "error": "the GPU caught fire"}, 502, "the GPU caught fire"),
        ({"status": 400, "error": "context too long"}, 400, "context too long"),
        ({"status": 429, "error": "slow down"}, 429, "slow down"),
        ({"hang": True}, 504, "in time"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_failures_reach_the_client_as_http_errors(
    server, upstream, scripted, status, words, stream
):
    upstream.reply(**scripted)
    reply = server.client().post("/v1/chat/completions", json=ask(stream=stream))
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert words in error["message"]
    assert error["type"] == "upstream_error"
    assert KEY not in reply.text


def test_an_upstream_error_mid_stream_ends_the_stream_with_an_error_frame(server, upstream):
    upstream.reply("first words then trouble", stream_error="connection reset by model")
    reply = server.client().post("/v1/chat/completions", json=ask(stream=True))
    assert reply.status_code == 200
    payloads = parse_sse(reply.content)
    assert content_of(payloads).startswith("first")
    assert "connection reset by model" in payloads[-2]["error"]["message"]
    assert payloads[-1] == "[DONE]"


def test_an_unreachable_upstream_is_a_bad_gateway_and_the_others_still_list(
    tmp_path, upstream, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_BASE_URLS", f"{dead_base_url()};{upstream.base_url}")
    monkeypatch.setenv("OPENAI_API_KEYS", f"x;{KEY}")
    for running in start_server(tmp_path, None, []):
        admin = running.client()
        ids = {m["id"] for m in admin.get("/v1/models").json()["data"]}
        assert "mock-small" in ids
        created = admin.post(
            "/api/v1/connections",
            json={"id": "gone", "base_url": dead_base_url(), "models": ["ghost"]},
        )
        assert created.status_code == 200
        reply = admin.post("/v1/chat/completions", json=ask(model="ghost"))
        assert reply.status_code == 502
        assert "unreachable" in reply.json()["error"]["message"]


def test_a_client_that_leaves_mid_stream_stops_the_upstream_request(server, upstream):
    upstream.reply("word " * 200, chunk_delay=0.02)
    server.leave_stream(ask(stream=True))
    assert upstream.wait_for_disconnect_blocking(5)


def test_unknown_models_are_still_404(server):
    reply = server.client().post("/v1/chat/completions", json=ask(model="no-such-model"))
    assert reply.status_code == 404


# -- models called from plugin code (pipehouse.host.generate_chat_completion) -------------------
def host_call(server, text: str, stream: bool = False) -> str:
    body = {"model": "host_calls_model", "messages": [{"role": "user", "content": text}]}
    reply = server.client().post("/v1/chat/completions", json={**body, "stream": stream})
    assert reply.status_code == 200, reply.text
    return (
        content_of(parse_sse(reply.content))
        if stream
        else reply.json()["choices"][0]["message"]["content"]
    )


def test_a_pipe_asks_an_upstream_model_through_the_host(server, upstream):
    upstream.reply("forty-two")
    answer = host_call(server, "mock-small what is the answer?")
    # the inner call ran the filter chain too (its outlet mark), then the outer one did
    assert answer == "asked: forty-two<filter_trail><filter_trail>"
    assert upstream.chat_requests[-1].body["messages"][-1]["content"] == "what is the answer?"
    # a streamed host call goes through the same client and leaves the connection for the next
    upstream.reply("streamed forty-two")
    assert "forty-two" in host_call(server, "mock-small again?", stream=True)
    upstream.reply("forty-three")
    assert (
        host_call(server, "mock-small and now?") == "asked: forty-three<filter_trail><filter_trail>"
    )
    assert len(upstream.chat_requests) == 3 and upstream.connections == 1


def test_a_pipe_streams_another_pipe_through_the_host(server):
    answer = host_call(server, "returns_str hi", stream=True)
    assert answer.startswith("streamed: data: ")
    assert "plain answer" in answer and "[DONE]" in answer


def test_a_pipe_that_calls_itself_is_stopped_with_a_clear_error(server):
    body = {
        "model": "host_calls_model",
        # each call strips the first word and asks the model it names: itself, twelve times
        "messages": [{"role": "user", "content": " ".join(["host_calls_model"] * 12)}],
    }
    reply = server.client().post("/v1/chat/completions", json=body)
    assert reply.status_code == 502
    assert "nested more than 8 deep" in reply.json()["error"]["message"]


# -- usage, the end of a stream, routers --------------------------------------------------------
def test_usage_is_the_upstreams_own_in_both_modes_and_comes_once_last(server, upstream):
    reported = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    upstream.reply("one two three", usage=reported)
    answer = sdk(server).chat.completions.create(**ask())
    assert answer.usage.model_dump(exclude_none=True) == reported

    upstream.reply("one two three", usage=reported)
    chunks = list(
        sdk(server).chat.completions.create(
            **ask(), stream=True, stream_options={"include_usage": True}
        )
    )
    # the upstream's usage chunk is not passed on beside pipehouse's: one report, the last
    assert [c.usage.model_dump(exclude_none=True) for c in chunks if c.usage] == [reported]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    # the outlet's suffix arrives before the finish chunk, which ends the answer's text
    finish_at = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason)
    assert finish_at == len(chunks) - 2
    assert not chunks[finish_at].choices[0].delta.content
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:finish_at] if c.choices)
    assert text.replace("[filter_trail]", "").endswith("three<filter_trail>")


def test_a_router_filter_sends_a_photo_to_an_upstream_vision_model(tmp_path, upstream, monkeypatch):
    monkeypatch.setenv("OPENAI_API_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for running in start_server(tmp_path, None, ["filter_vision_router", "returns_str"]):
        admin = running.client()
        saved = admin.post(
            "/api/v1/functions/id/filter_vision_router/valves/update",
            json={"vision_model_id": "mock-large"},
        )
        assert saved.status_code == 200, saved.text
        photo = [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ]
        body = {"model": "returns_str", "messages": [{"role": "user", "content": photo}]}
        for stream in (False, True):
            upstream.reply("a cat on a mat")
            reply = admin.post("/v1/chat/completions", json={**body, "stream": stream})
            assert reply.status_code == 200, reply.text
            text = (
                content_of(parse_sse(reply.content))
                if stream
                else reply.json()["choices"][0]["message"]["content"]
            )
            assert text == "a cat on a mat"  # the upstream answered, not the pipe asked for
            assert upstream.chat_requests[-1].body["model"] == "mock-large"
            assert upstream.chat_requests[-1].body["messages"][-1]["content"] == photo
        # a question without a photo stays with the pipe
        plain = admin.post("/v1/chat/completions", json=ask(model="returns_str"))
        assert plain.json()["choices"][0]["message"]["content"] == "plain answer"


# -- the proxy path: one [DONE], kept-alive connections, slow clients ----------------------------
def test_proxied_answers_end_once_and_reuse_one_upstream_connection(server, upstream):
    client = server.client()
    for stream in (True, False, True, True):
        upstream.reply("one two three")
        reply = client.post("/v1/chat/completions", json=ask(stream=stream))
        assert reply.status_code == 200, reply.text
        if stream:  # the upstream's own [DONE] is not passed on beside pipehouse's
            assert reply.content.count(b"[DONE]") == 1
            assert reply.content.endswith(b"data: [DONE]\n\n")
    assert len(upstream.chat_requests) == 4 and upstream.connections == 1


def _kernel_limit(name: str, default: int) -> int:
    """The largest size Linux lets a TCP buffer grow to by itself (`tcp_rmem`/`tcp_wmem`)."""
    try:
        with open(f"/proc/sys/net/ipv4/{name}") as limits:
            return int(limits.read().split()[2])
    except (OSError, IndexError, ValueError):
        return default


def _most_that_can_lie_between(chunk: int, relayed: bool = False) -> int:
    """Bytes that may sit between the upstream and a client that stopped reading, when every
    buffer is full: the upstream's send buffer, pipehouse's receive buffer from it (which the
    kernel grows to `tcp_rmem`'s maximum, 32 MB on some machines), pipehouse's send buffer to
    the client, 256 chunks in the turn and 256 more in a worker's window, plus 1 MB for
    aiohttp's, uvicorn's and the client's own small buffers. A model `relayed` by a pipe
    (a host call) adds the inner request's turn, a host call's window both sides of the
    worker's socket and that socket's buffers."""
    rmem, wmem = _kernel_limit("tcp_rmem", 6 << 20), _kernel_limit("tcp_wmem", 4 << 20)
    if relayed:
        return rmem + 4 * wmem + (3 * 256 + 2 * 64) * chunk + (1 << 20)
    return rmem + 2 * wmem + 2 * 256 * chunk + (1 << 20)


@contextmanager
def _a_client_that_stopped_reading(
    server: Server, upstream: MockUpstream, body: dict | None = None
) -> Iterator[tuple[list[bytes], Iterator[bytes], RecordedRequest]]:
    """Stream a chat completion as a client that read its first bytes and then stopped: the
    context is entered once the upstream has been waiting for pipehouse to read on for 0.5 s.
    Yields the bytes received, the rest of the stream and the upstream's request."""
    # The client's receive buffer is kept small: the kernel would grow it to tcp_rmem's maximum
    small_receive_buffer = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)]
    transport = httpx.HTTPTransport(socket_options=small_receive_buffer)
    with (
        server.client(transport=transport) as client,
        client.stream("POST", "/v1/chat/completions", json=body or ask(stream=True)) as reply,
    ):
        pieces = reply.iter_raw()
        received = [next(pieces)]
        eventually(lambda: upstream.chat_requests, what="the upstream's request")
        record = upstream.chat_requests[0]

        def upstream_waits() -> bool:
            waiting = record.send_waiting_since
            return waiting is not None and time.monotonic() - waiting > 0.5

        eventually(upstream_waits, what=f"the upstream waiting for pipehouse ({record})")
        yield received, pieces, record


@pytest.mark.parametrize("isolation", ["inline", "isolated"])
def test_a_client_that_reads_slowly_holds_the_upstream_back(
    tmp_path, upstream, monkeypatch, isolation
):
    """Pipehouse stops reading the upstream while its client does not read (nothing piles up
    in between, a stream filter's worker included), and the whole answer still arrives once
    the client reads on."""
    monkeypatch.setenv("OPENAI_API_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    chunk = 10_000
    most_between = _most_that_can_lie_between(chunk + 100)  # a chunk's JSON around its word
    words = most_between // chunk + 1000  # 10 MB more than every buffer can hold
    upstream.reply(("x" * chunk + " ") * words)
    for server in start_server(tmp_path, None, ["filter_trail"], isolation=isolation):
        with _a_client_that_stopped_reading(server, upstream) as (received, pieces, record):
            assert not record.finished and record.sent_bytes < most_between
            received.extend(pieces)
        payloads = parse_sse(b"".join(received))
        assert content_of(payloads).count("x" * chunk) == words and payloads[-1] == "[DONE]"
        assert record.finished


# -- the same guarantees for a model called from plugin code (host calls; issue 17) -------------
@pytest.fixture(params=["inline", "isolated"])
def relay(request, tmp_path, upstream, monkeypatch) -> Iterator:
    """A server with a pipe that answers through `generate_chat_completion` to mock-small."""
    monkeypatch.setenv("OPENAI_API_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield from start_server(tmp_path, None, ["host_relays_model"], isolation=request.param)


def relayed(text: str = "hello upstream", **extra) -> dict:
    return ask(text, model="host_relays_model", **extra)


@pytest.mark.parametrize("stream", [False, True])
def test_a_host_call_to_a_refusing_upstream_raises_before_any_frame(relay, upstream, stream):
    """The plugin's own `except` sees the upstream's status and words; a stream does not
    start and then carry the refusal as a frame."""
    upstream.reply(status=429, error="slow down")
    reply = relay.client().post("/v1/chat/completions", json=relayed(stream=stream))
    assert reply.status_code == 200, reply.text
    text = (
        content_of(parse_sse(reply.content))
        if stream
        else reply.json()["choices"][0]["message"]["content"]
    )
    assert text.startswith("Error: ") and "HTTP 429" in text and "slow down" in text
    assert KEY not in text


def test_usage_and_one_done_pass_through_a_host_call(relay, upstream):
    reported = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    upstream.reply("one two three", usage=reported)
    answer = relay.client().post("/v1/chat/completions", json=relayed())
    assert answer.json()["usage"] == reported

    upstream.reply("one two three", usage=reported)
    body = relayed(stream=True, stream_options={"include_usage": True})
    reply = relay.client().post("/v1/chat/completions", json=body)
    assert upstream.chat_requests[-1].body["stream_options"] == {"include_usage": True}
    payloads = parse_sse(reply.content)
    assert content_of(payloads) == "one two three"
    assert [p["usage"] for p in payloads[:-1] if p.get("usage")] == [reported]
    assert reply.content.count(b"[DONE]") == 1 and payloads[-1] == "[DONE]"


def test_a_client_that_leaves_a_host_call_stream_stops_the_upstream(relay, upstream):
    upstream.reply("word " * 400, chunk_delay=0.02)  # 8 s if nobody stops it
    # once the upstream's answer is flowing through the plugin
    relay.leave_stream(relayed(stream=True), once_seen=b"word")
    assert upstream.wait_for_disconnect_blocking(5)
    assert not upstream.chat_requests[0].finished


def test_a_client_that_reads_slowly_holds_back_a_model_a_pipe_relays(relay, upstream):
    """A pipe relaying a model's stream (a host call) to a client that stopped reading holds
    that model back, in a worker as inline, and the whole answer arrives once it reads on."""
    chunk = 10_000
    most_between = _most_that_can_lie_between(chunk + 100, relayed=True)
    words = most_between // chunk + 1000  # 10 MB more than every buffer can hold
    upstream.reply(("x" * chunk + " ") * words)
    body = relayed(stream=True)
    with _a_client_that_stopped_reading(relay, upstream, body) as (received, pieces, record):
        assert not record.finished and record.sent_bytes < most_between
        received.extend(pieces)
    payloads = parse_sse(b"".join(received))
    assert content_of(payloads).count("x" * chunk) == words and payloads[-1] == "[DONE]"
    assert record.finished


def test_a_client_that_leaves_while_pipehouse_holds_the_upstream_back_stops_it(server, upstream):
    """The other way a client leaves: it stopped reading first, so pipehouse is parked with a
    full buffer (not waiting on the upstream) when the client goes; the upstream is still
    closed rather than left blocked mid-answer."""
    chunk = 10_000
    upstream.reply(("x" * chunk + " ") * (_most_that_can_lie_between(chunk + 100) // chunk + 1000))
    with _a_client_that_stopped_reading(server, upstream) as (_, _, record):
        pass
    assert upstream.wait_for_disconnect_blocking(10)
    assert not record.finished
