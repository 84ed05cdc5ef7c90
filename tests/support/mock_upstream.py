"""A scriptable OpenAI-compatible model server on a loopback port, for pipehouse's upstream side.

It is a real HTTP server (uvicorn in a background thread, so sync and async tests can use it):

    with MockUpstream(api_key="sk-test") as upstream:
        upstream.reply(text="Hello there")                       # next chat answer
        upstream.reply(tool_calls=[{"name": "add", "arguments": {"a": 1}}])
        upstream.reply(status=500, error="boom")                 # an HTTP error answer
        upstream.reply(text="slow", chunk_delay=0.5)             # or delay=, hang=True, ...
        ...                                                      # point a client at .base_url
        upstream.requests[-1].body["messages"]; upstream.models_calls
        await upstream.wait_for_disconnect()                     # the client went away mid-answer
                                                                 # (sync: ..._blocking())
        upstream.connections                                     # TCP connections chat came over

Without a scripted reply it echoes the last user message. Chat requests for a model it does not
list are answered 404, as real servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

CREATED = 1_700_000_000


@dataclass
class Reply:
    """One scripted answer to a chat request."""

    text: str | None = None  # None: echo the last user message
    tool_calls: list[dict[str, Any]] | None = None  # [{"name": ..., "arguments": dict | str}]
    status: int = 200
    error: str | None = None  # answer `{"error": {"message": error}}` with `status`
    body: Any = None  # answer exactly this (dict: JSON; str/bytes: text/plain) with `status`
    stream_error: str | None = None  # streaming: an `{"error"}` frame after the first words
    delay: float = 0.0  # seconds before the response headers
    chunk_delay: float = 0.0  # streaming: seconds before each piece
    hang: bool = False  # never answer; wait for the client to give up
    split_bytes: int | None = None  # streaming: send the SSE bytes in pieces this long
    usage: dict[str, int] | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or the raw bytes when it was not JSON
    client: tuple[str, int] | None = None  # the TCP peer: one per connection
    finished: bool = False  # the whole answer was sent
    disconnected: bool = False  # the client went away before the answer ended
    sent_bytes: int = 0  # of the answer's body, so far
    # since when a send of the body has been waiting for the client to read (None: not waiting)
    send_waiting_since: float | None = None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class _Exchange:
    """One request in flight: its record and whether its client has gone."""

    record: RecordedRequest
    send: Any
    gone: asyncio.Event = field(default_factory=asyncio.Event)

    async def still_there_after(self, seconds: float) -> bool:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gone.wait(), seconds)
        if self.gone.is_set():
            self.record.disconnected = True
        return not self.gone.is_set()

    async def start(self, status: int, content_type: bytes) -> None:
        headers = [(b"content-type", content_type)]
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def body(self, data: bytes, more: bool = False) -> None:
        self.record.send_waiting_since = time.monotonic()
        await self.send({"type": "http.response.body", "body": data, "more_body": more})
        self.record.send_waiting_since = None
        self.record.sent_bytes += len(data)

    async def answer(self, status: int, payload: Any) -> None:
        if isinstance(payload, dict | list):
            await self.start(status, b"application/json")
            await self.body(orjson.dumps(payload))
        else:
            await self.start(status, b"text/plain; charset=utf-8")
            await self.body(payload if isinstance(payload, bytes) else str(payload).encode())
        self.record.finished = True


class MockUpstream:
    def __init__(
        self, *, api_key: str | None = None, models: list[str | dict] | None = None
    ) -> None:
        self.api_key = api_key
        self.models: list[str | dict[str, Any]] = (
            list(models) if models is not None else ["mock-small", "mock-large"]
        )
        self.models_status = 200  # anything else: `/models` fails with this status
        self.models_delay = 0.0
        self.models_gate: threading.Event | None = None  # `/models` answers once it is set
        self.models_body: Any = None  # answer `/models` with exactly this instead
        self.requests: list[RecordedRequest] = []
        self._replies: deque[Reply] = deque()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- scripting and inspection -------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reply(self, text: str | None = None, **options: Any) -> Reply:
        """Queue the answer to the next chat request (see `Reply` for the options)."""
        scripted = Reply(text=text, **options)
        self._replies.append(scripted)
        return scripted

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def connections(self) -> int:
        """How many TCP connections the chat requests came over (keep-alive reuses one)."""
        return len({r.client for r in self.chat_requests})

    @property
    def models_calls(self) -> int:
        return sum(1 for r in self.requests if r.path == "/v1/models")

    async def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        """Whether a chat client went away mid-answer within `timeout` (yields to the event loop,
        which the client side needs to actually close its socket)."""
        deadline = time.monotonic() + timeout
        while not any(r.disconnected for r in self.requests):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def wait_for_disconnect_blocking(self, timeout: float = 5.0) -> bool:
        """The same for sync tests, whose client runs on another thread (a pipehouse server)."""
        deadline = time.monotonic() + timeout
        while not any(r.disconnected for r in self.requests):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> MockUpstream:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock upstream did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(10)

    def __enter__(self) -> MockUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the ASGI app -------------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw
        client = tuple(scope["client"]) if scope.get("client") else None
        record = RecordedRequest(scope["method"], scope["path"], headers, body, client)
        self.requests.append(record)
        exchange = _Exchange(record, send)
        watcher = asyncio.create_task(_watch_for_disconnect(receive, exchange.gone))
        try:
            await self._route(exchange)
        finally:
            watcher.cancel()

    async def _route(self, exchange: _Exchange) -> None:
        record = exchange.record
        given = record.authorization or ""
        if self.api_key and given != f"Bearer {self.api_key}":
            # Like real servers, it quotes the key it was given: pipehouse must not pass it on.
            message = f"Incorrect API key provided: {given.removeprefix('Bearer ')}"
            await exchange.answer(401, _error(message, "invalid_api_key"))
        elif (record.method, record.path) == ("GET", "/v1/models"):
            await self._models(exchange)
        elif (record.method, record.path) == ("POST", "/v1/chat/completions"):
            await self._chat(exchange, self._replies.popleft() if self._replies else Reply())
        else:
            await exchange.answer(404, _error(f"no route {record.method} {record.path}"))

    async def _models(self, exchange: _Exchange) -> None:
        if not await exchange.still_there_after(self.models_delay):
            return
        if self.models_gate is not None:
            await asyncio.to_thread(self.models_gate.wait, 30)
        if self.models_body is not None:
            await exchange.answer(self.models_status, self.models_body)
            return
        if self.models_status != 200:
            await exchange.answer(self.models_status, _error("listing models failed"))
            return
        listed = [
            {"object": "model", "created": CREATED, "owned_by": "mock", **_as_model(m)}
            for m in self.models
        ]
        await exchange.answer(200, {"object": "list", "data": listed})

    async def _chat(self, exchange: _Exchange, reply: Reply) -> None:
        request = exchange.record.body if isinstance(exchange.record.body, dict) else {}
        if reply.hang:
            await exchange.gone.wait()
            exchange.record.disconnected = True
            return
        if not await exchange.still_there_after(reply.delay):
            return
        if reply.body is not None:
            await exchange.answer(reply.status, reply.body)
        elif reply.error is not None or reply.status != 200:
            await exchange.answer(reply.status, _error(reply.error or f"mock error {reply.status}"))
        elif request.get("model") not in {_as_model(m)["id"] for m in self.models}:
            message = f"The model {request.get('model')!r} does not exist"
            await exchange.answer(404, _error(message, "model_not_found"))
        elif request.get("stream"):
            await self._stream(exchange, reply, request)
        else:
            await exchange.answer(200, _completion(reply, request))

    async def _stream(self, exchange: _Exchange, reply: Reply, request: dict) -> None:
        frames = [b"data: " + orjson.dumps(chunk) + b"\n\n" for chunk in _chunks(reply, request)]
        if reply.stream_error:
            frames = [*frames[:2], b"data: " + orjson.dumps(_error(reply.stream_error)) + b"\n\n"]
        else:
            frames.append(b"data: [DONE]\n\n")
        if reply.split_bytes:
            raw = b"".join(frames)
            frames = [raw[i : i + reply.split_bytes] for i in range(0, len(raw), reply.split_bytes)]
        await exchange.start(200, b"text/event-stream")
        for frame in frames:
            if not await exchange.still_there_after(reply.chunk_delay):
                return
            await exchange.body(frame, more=True)
        await exchange.body(b"")
        exchange.record.finished = True


def dead_base_url() -> str:
    """A loopback base URL nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def _watch_for_disconnect(receive: Any, gone: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


def _error(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _as_model(model: str | dict[str, Any]) -> dict[str, Any]:
    return {"id": model} if isinstance(model, str) else model


def _answer_text(reply: Reply, request: dict) -> str:
    if reply.text is not None or reply.tool_calls:
        return reply.text or ""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):  # multimodal parts
                return "".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content or "")
    return ""


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_mock_{index}",
            "type": "function",
            "function": {
                "name": call["name"],
                "arguments": (
                    call["arguments"]
                    if isinstance(call.get("arguments"), str)
                    else orjson.dumps(call.get("arguments", {})).decode()
                ),
            },
        }
        for index, call in enumerate(reply.tool_calls or [])
    ]


def _usage(reply: Reply, request: dict, text: str) -> dict[str, int]:
    if reply.usage is not None:
        return reply.usage
    prompt = sum(len(str(m.get("content") or "").split()) for m in request.get("messages") or [])
    completion = len(text.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(reply: Reply, request: dict) -> dict[str, Any]:
    text = _answer_text(reply, request)
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply)
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": CREATED,
        "model": request.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage(reply, request, text),
    }


def _chunks(reply: Reply, request: dict) -> Iterator[dict[str, Any]]:
    """The answer as OpenAI streams it: the role, the text a word at a time, each tool call's
    id and name then its arguments in fragments, the finish reason, then usage if asked for."""

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": request.get("model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    text = _answer_text(reply, request)
    yield chunk({"role": "assistant", "content": ""})
    for word in re.findall(r"\s*\S+|\s+", text):
        yield chunk({"content": word})
    for index, call in enumerate(_tool_calls(reply)):
        function = call["function"]
        opening = {"index": index, "id": call["id"], "type": "function"}
        yield chunk(
            {"tool_calls": [{**opening, "function": {"name": function["name"], "arguments": ""}}]}
        )
        arguments = function["arguments"]
        for start in range(0, len(arguments), 8):
            fragment = arguments[start : start + 8]
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if (request.get("stream_options") or {}).get("include_usage"):
        yield {**chunk({}), "choices": [], "usage": _usage(reply, request, text)}
