"""One upstream over real HTTP: listing, completing, streaming, and every way it can fail."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from pipehouse.upstream.client import UpstreamClient, UpstreamError
from pipehouse.upstream.connections import Connection
from pipehouse.upstream.http import UpstreamHTTP, proxy_for
from tests.conftest import content_of, parse_sse
from tests.support.mock_upstream import MockUpstream, dead_base_url
from tests.support.polling import eventually_async

KEY = "sk-upstream-secret-0123456789"


@pytest.fixture
def upstream() -> Iterator[MockUpstream]:
    with MockUpstream(
        api_key=KEY, models=["mock-small", {"id": "mock-large", "name": "Large"}]
    ) as mock:
        yield mock


@pytest.fixture
async def http() -> AsyncIterator[UpstreamHTTP]:
    shared = UpstreamHTTP()
    yield shared
    await shared.close()


def client_for(
    base_url: str, http: UpstreamHTTP, key: str | None = KEY, **timeouts: float
) -> UpstreamClient:
    return UpstreamClient(Connection("mock", base_url, api_key=key), http, **timeouts)


def body(prompt: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"model": "mock-small", "messages": [{"role": "user", "content": prompt}], **extra}


def text_of(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


async def streamed(client: UpstreamClient, request: dict) -> list[dict]:
    """Every chunk of a stream, whatever network reads they came in."""
    return [chunk async for batch in client.stream_batches(request) for chunk in batch]


async def answer(client: UpstreamClient, mode: str, request: dict) -> Any:
    if mode == "complete":
        return await client.complete(request)
    return await streamed(client, request)


async def failure(client: UpstreamClient, mode: str, request: dict | None = None) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        await answer(client, mode, request or body())
    return caught.value


both_modes = pytest.mark.parametrize("mode", ["complete", "stream"])


# -- listing ------------------------------------------------------------------------------------
async def test_lists_the_upstream_models_with_the_key(upstream, http):
    models = await client_for(upstream.base_url, http).list_models()
    assert [m["id"] for m in models] == ["mock-small", "mock-large"]
    assert models[1]["name"] == "Large"
    assert upstream.requests[0].authorization == f"Bearer {KEY}"


async def test_a_connection_without_key_sends_no_authorization(http):
    with MockUpstream() as open_upstream:
        await client_for(open_upstream.base_url, http, key=None).list_models()
        assert open_upstream.requests[0].authorization is None


async def test_an_ollama_style_models_list_is_understood(upstream, http):
    upstream.models_body = {
        "models": [{"name": "llama3:8b", "model": "llama3:8b"}, {"name": "qwen"}]
    }
    models = await client_for(upstream.base_url, http).list_models()
    assert [m["id"] for m in models] == ["llama3:8b", "qwen"]


async def test_a_models_answer_that_is_no_list_is_an_upstream_failure(upstream, http):
    upstream.models_body = {"hello": "world"}
    with pytest.raises(UpstreamError) as caught:
        await client_for(upstream.base_url, http).list_models()
    assert caught.value.status == 502 and "not a model list" in caught.value.message


# -- answers ------------------------------------------------------------------------------------
async def test_complete_returns_the_upstream_completion(upstream, http):
    upstream.reply("Hi Ada")
    completion = await client_for(upstream.base_url, http).complete(body(stream=True))
    assert completion["choices"][0]["message"]["content"] == "Hi Ada"
    sent = upstream.chat_requests[0]
    assert sent.body["stream"] is False and sent.body["model"] == "mock-small"
    assert sent.authorization == f"Bearer {KEY}"


async def test_stream_yields_the_chunks_until_done(upstream, http):
    upstream.reply("the quick brown fox")
    chunks = await streamed(client_for(upstream.base_url, http), body())
    assert text_of(chunks) == "the quick brown fox"
    assert len(chunks) > 4  # word by word, not one piece
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert upstream.chat_requests[0].body["stream"] is True
    assert upstream.chat_requests[0].finished


async def test_chunks_that_arrive_together_are_handed_on_together_in_order(upstream, http):
    upstream.reply("the quick brown fox", split_bytes=1 << 20)  # the whole answer in one write
    batches = [b async for b in client_for(upstream.base_url, http).stream_batches(body())]
    assert len(batches) == 1  # one network read: one list, the role chunk to the finish
    assert text_of(batches[0]) == "the quick brown fox"
    assert batches[0][0]["choices"][0]["delta"]["role"] == "assistant"
    assert batches[0][-1]["choices"][0]["finish_reason"] == "stop"


async def test_stream_carries_tool_calls_and_usage(upstream, http):
    upstream.reply(tool_calls=[{"name": "add", "arguments": {"a": 1, "b": 2}}])
    request = body(stream_options={"include_usage": True})
    chunks = await streamed(client_for(upstream.base_url, http), request)
    calls = [
        d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert calls[0]["function"]["name"] == "add"
    arguments = "".join(d["function"].get("arguments", "") for d in calls)
    assert orjson.loads(arguments) == {"a": 1, "b": 2}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["total_tokens"] > 0


async def test_stream_survives_events_split_at_odd_byte_boundaries(upstream, http):
    upstream.reply("splitting ünïcödé across network chunks", split_bytes=3, chunk_delay=0.001)
    chunks = await streamed(client_for(upstream.base_url, http), body())
    assert text_of(chunks) == "splitting ünïcödé across network chunks"


async def test_a_stream_request_answered_in_one_piece_becomes_one_chunk(upstream, http):
    completion = {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}}],
    }
    upstream.reply(body=completion)
    chunks = await streamed(client_for(upstream.base_url, http), body())
    assert text_of(chunks) == "whole"


def test_the_mock_speaks_plain_sse_to_a_sync_client(upstream):
    upstream.reply("hello sync world")
    headers = {"Authorization": f"Bearer {KEY}"}
    with (
        httpx.Client(headers=headers) as http,
        http.stream("POST", f"{upstream.base_url}/chat/completions", json=body(stream=True)) as r,
    ):
        assert r.headers["content-type"].startswith("text/event-stream")
        payloads = parse_sse(r.read())
    assert content_of(payloads) == "hello sync world" and payloads[-1] == "[DONE]"


# -- failures -----------------------------------------------------------------------------------
@both_modes
async def test_an_unreachable_upstream_is_a_502_naming_it(http, mode):
    base_url = dead_base_url().replace("http://", "http://admin:hunter2@")
    error = await failure(client_for(base_url, http), mode)
    assert error.status == 502 and error.upstream_status is None
    assert "upstream 'mock'" in error.message and "unreachable" in error.message
    assert "hunter2" not in error.message and KEY not in error.message


@both_modes
async def test_a_rejected_key_is_a_502_that_never_repeats_the_key(upstream, http, mode):
    wrong_key = "sk-wrong-but-still-secret-987"
    error = await failure(client_for(upstream.base_url, http, key=wrong_key), mode)
    assert upstream.requests[0].authorization == f"Bearer {wrong_key}"  # the mock quoted it back
    assert error.status == 502 and error.upstream_status == 401
    assert "rejected the connection's API key" in error.message
    assert wrong_key not in error.message and "[redacted]" in error.message


async def test_a_missing_key_says_the_connection_has_none(upstream, http):
    error = await failure(client_for(upstream.base_url, http, key=None), "complete")
    assert error.status == 502 and "requires an API key" in error.message


@both_modes
async def test_an_unknown_model_is_a_404(upstream, http, mode):
    error = await failure(client_for(upstream.base_url, http), mode, body(model="mock-huge"))
    assert error.status == 404 and "mock-huge" in error.message


@both_modes
@pytest.mark.parametrize(
    ("status", "reply", "said"),
    [
        (400, {"error": "context length exceeded"}, "context length exceeded"),
        (400, {"error": {"message": "bad temperature"}}, "bad temperature"),
        (413, {"message": "request too large"}, "request too large"),
        (
            422,
            {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]},
            "field required",
        ),
        (400, "plain text complaint", "plain text complaint"),
    ],
)
async def test_a_bad_request_is_a_400_with_the_upstream_words(
    upstream, http, mode, status, reply, said
):
    upstream.reply(status=status, body=reply)
    error = await failure(client_for(upstream.base_url, http), mode)
    assert error.status == 400 and error.upstream_status == status
    assert said in error.message


async def test_a_long_upstream_complaint_is_truncated(upstream, http):
    upstream.reply(status=400, body="x" * 5000)
    error = await failure(client_for(upstream.base_url, http), "complete")
    assert error.status == 400 and len(error.message) < 600


@both_modes
@pytest.mark.parametrize(("status", "expected"), [(429, 429), (500, 502), (503, 502)])
async def test_rate_limits_and_server_errors(upstream, http, mode, status, expected):
    upstream.reply(status=status, error="the upstream is having a day")
    error = await failure(client_for(upstream.base_url, http), mode)
    assert error.status == expected and error.upstream_status == status
    assert "the upstream is having a day" in error.message and f"HTTP {status}" in error.message


@both_modes
async def test_a_key_echoed_in_an_error_is_redacted(upstream, http, mode):
    upstream.reply(status=500, error=f"could not bill key {KEY}")
    error = await failure(client_for(upstream.base_url, http), mode)
    assert KEY not in error.message and KEY not in str(error)
    assert "could not bill key [redacted]" in error.message


@both_modes
async def test_a_200_carrying_an_error_is_a_502(upstream, http, mode):
    upstream.reply(body={"error": {"message": "model is loading"}})
    error = await failure(client_for(upstream.base_url, http), mode)
    assert error.status == 502 and "model is loading" in error.message


@pytest.mark.parametrize("one_read", [False, True])
async def test_an_error_frame_inside_a_stream_raises_after_the_words_before_it(
    upstream, http, one_read
):
    split = {"split_bytes": 1 << 20} if one_read else {}  # the error in the words' own read
    upstream.reply("one two three", stream_error="the GPU fell over", **split)
    received = []
    with pytest.raises(UpstreamError) as caught:
        async for batch in client_for(upstream.base_url, http).stream_batches(body()):
            received.extend(batch)
    assert text_of(received) == "one"
    assert caught.value.status == 502 and "the GPU fell over" in caught.value.message


async def test_a_completion_that_is_not_json_is_a_502(upstream, http):
    upstream.reply(body="<html>gateway</html>")
    error = await failure(client_for(upstream.base_url, http), "complete")
    assert error.status == 502 and "not JSON" in error.message


# -- time and cancellation ----------------------------------------------------------------------
@both_modes
async def test_an_upstream_that_never_answers_is_a_504(upstream, http, mode):
    upstream.reply(hang=True)
    client = client_for(upstream.base_url, http, read_timeout=0.3)
    error = await failure(client, mode)
    assert error.status == 504 and "read timeout" in error.message
    assert await upstream.wait_for_disconnect()  # the upstream is not left generating


async def test_a_stream_that_goes_quiet_is_a_504(upstream, http):
    upstream.reply("one two three", chunk_delay=1.0)
    upstream.reply("ok")
    client = client_for(upstream.base_url, http, read_timeout=0.3)
    error = await failure(client, "stream")
    assert error.status == 504
    assert text_of(await answer(client, "stream", body())) == "ok"  # the pool is still usable


async def test_a_slow_but_steady_stream_is_not_cut_off(upstream, http):
    upstream.reply("one two three four", chunk_delay=0.1)
    client = client_for(upstream.base_url, http, read_timeout=0.3)
    assert text_of(await answer(client, "stream", body())) == "one two three four"


async def test_closing_a_stream_early_disconnects_from_the_upstream(upstream, http):
    upstream.reply("a long answer the client will not wait for", chunk_delay=0.1)
    stream = client_for(upstream.base_url, http).stream_batches(body())
    first = await anext(stream)
    assert first[0]["choices"][0]["delta"]["role"] == "assistant"
    await stream.aclose()
    assert await upstream.wait_for_disconnect()
    assert not upstream.chat_requests[0].finished


# -- connections --------------------------------------------------------------------------------
async def test_requests_in_turn_share_one_kept_alive_connection(upstream, http):
    client = client_for(upstream.base_url, http)
    for mode in ("complete", "stream", "complete", "stream"):
        upstream.reply(f"answer {mode}", usage={"prompt_tokens": 1, "completion_tokens": 2})
        assert "answer" in str(await answer(client, mode, body()))
    upstream.reply(status=429, error="slow down")  # an error answer is read whole: kept too
    await failure(client, "stream")
    assert len(upstream.chat_requests) == 5 and upstream.connections == 1


async def test_a_stream_stopped_early_does_not_leave_its_connection_to_the_next_request(
    upstream, http
):
    upstream.reply("a long answer the client will not wait for", chunk_delay=0.05)
    client = client_for(upstream.base_url, http)
    stream = client.stream_batches(body())
    await anext(stream)
    await stream.aclose()
    assert await upstream.wait_for_disconnect()
    upstream.reply("next")
    assert text_of(await answer(client, "stream", body())) == "next"
    assert upstream.connections == 2  # the stopped one was closed, not handed on half-read


async def test_a_reader_that_stops_asking_pauses_the_upstream(upstream, http):
    """Nothing piles up in pipehouse while its reader waits: the upstream is held back by TCP
    once aiohttp's buffer and the sockets' are full, and goes on when reading resumes."""
    words = 4000  # loopback sockets can buffer about 10 MB between them: send well past that
    upstream.reply(("x" * 10_000 + " ") * words)  # about 40 MB in 4,000 chunks
    stream = client_for(upstream.base_url, http).stream_batches(body())
    first = await anext(stream)
    record = upstream.chat_requests[0]
    await eventually_async(
        lambda: (
            record.send_waiting_since is not None
            and time.monotonic() - record.send_waiting_since > 0.5
        ),
        what="the upstream waiting for pipehouse to read",
    )
    assert not record.finished and record.sent_bytes < 40_000_000 / 2
    rest = [chunk async for batch in stream for chunk in batch]
    assert len(text_of(first + rest)) == 10_001 * words and record.finished


def test_the_environment_s_proxy_is_used_except_for_no_proxy_hosts(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,ollama.internal")
    assert proxy_for("https://api.example.com/v1") == "http://proxy.internal:3128"
    assert proxy_for("https://ollama.internal/v1") is None
    assert proxy_for("http://api.example.com/v1") is None  # no HTTP_PROXY set
