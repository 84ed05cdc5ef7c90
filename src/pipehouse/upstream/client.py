"""Talking to one OpenAI-compatible model server: list its models, complete, stream.

Every failure becomes an `UpstreamError` carrying the status pipehouse should answer its own
client with, so callers never translate httpx exceptions or upstream bodies themselves. Error
messages never contain the connection's API key, even when an upstream echoes it back.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import orjson

from pipehouse.upstream.connections import Connection

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 300.0
# `/models` feeds pipehouse's own `/v1/models`: a hung upstream must not stall that for minutes.
DEFAULT_LISTING_TIMEOUT = 15.0
MAX_UPSTREAM_MESSAGE = 500


class UpstreamError(Exception):
    """An upstream call failed; `status` is what pipehouse answers, `upstream_status` what the
    upstream answered (None when it never answered)."""

    def __init__(
        self, status: int, message: str, *, connection_id: str, upstream_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.connection_id = connection_id
        self.upstream_status = upstream_status


class SSEParser:
    """Incremental Server-Sent Events parser: feed network chunks, get complete `data` payloads.

    Chunks may split lines (or a `\\r\\n`) anywhere; comments and other fields are ignored, and
    an event's `data` lines are joined by newlines as the SSE specification says.
    """

    def __init__(self) -> None:
        self._partial = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        text = self._partial + chunk
        held = b""
        if text.endswith(b"\r"):  # may be the first half of "\r\n"
            text, held = text[:-1], b"\r"
        lines = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._partial = lines.pop() + held
        events = []
        for line in lines:
            if not line:
                events.extend(self._dispatch())
            elif not line.startswith(b":"):
                name, _, value = line.partition(b":")
                if name == b"data":
                    self._data.append(value.removeprefix(b" "))
        return events

    def close(self) -> list[bytes]:
        """Whatever the stream left unterminated (a final event without its blank line)."""
        events = self.feed(b"\n") if self._partial else []
        return events + self._dispatch()

    def _dispatch(self) -> list[bytes]:
        data, self._data = self._data, []
        return [b"\n".join(data)] if data else []


class UpstreamClient:
    """One connection's API, over a shared `httpx.AsyncClient` (its pool is reused by all)."""

    def __init__(
        self,
        connection: Connection,
        http: httpx.AsyncClient,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        listing_timeout: float = DEFAULT_LISTING_TIMEOUT,
    ) -> None:
        self.connection = connection
        self._http = http
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self._listing_timeout = httpx.Timeout(
            connect=connect_timeout,
            read=min(read_timeout, listing_timeout),
            write=listing_timeout,
            pool=connect_timeout,
        )

    async def list_models(self) -> list[dict[str, Any]]:
        """The upstream's model objects (OpenAI's `data`, or Ollama's `models` renamed to ids)."""
        payload = await self._json("GET", "/models", timeout=self._listing_timeout)
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            return [m for m in payload["data"] if isinstance(m, dict) and _is_id(m.get("id"))]
        if isinstance(payload, dict) and isinstance(payload.get("models"), list):
            return [
                {**m, "id": m.get("model") or m.get("name")}
                for m in payload["models"]
                if isinstance(m, dict) and _is_id(m.get("model") or m.get("name"))
            ]
        raise self._error(502, "answered /models with something that is not a model list")

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        payload = await self._json("POST", "/chat/completions", {**body, "stream": False})
        if not isinstance(payload, dict):
            raise self._error(502, "answered with JSON that is not a completion")
        self._raise_for_error_payload(payload)
        return payload

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The upstream's chunks as dicts. Close the generator (`aclose()`) to stop early: that
        closes the HTTP response, so the upstream sees the disconnect and stops generating."""
        request = self._request("POST", "/chat/completions", {**body, "stream": True})
        request.headers["Accept"] = "text/event-stream"
        try:
            response = await self._http.send(request, stream=True)
        except httpx.RequestError as exc:
            raise self._transport_error(exc) from None
        try:
            if response.is_error:
                raise self._status_error(response.status_code, await self._read(response))
            if "json" in response.headers.get("content-type", ""):
                # An error, or a server that ignored `stream: true` and answered in one piece.
                yield self._one_piece_as_chunk(self._decode(await self._read(response)))
                return
            parser = SSEParser()
            try:
                async for piece in response.aiter_raw():
                    for data in parser.feed(piece):
                        if data == b"[DONE]":
                            return
                        yield self._chunk(data)
            except httpx.RequestError as exc:
                raise self._transport_error(exc) from None
            for data in parser.close():
                if data != b"[DONE]":
                    yield self._chunk(data)
        finally:
            await response.aclose()

    # -- plumbing ---------------------------------------------------------------------------------
    def _request(
        self, method: str, path: str, body: dict | None = None, timeout: httpx.Timeout | None = None
    ) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if self.connection.api_key:
            headers["Authorization"] = f"Bearer {self.connection.api_key}"
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = orjson.dumps(body)
        url = f"{self.connection.base_url}{path}"
        try:
            return self._http.build_request(
                method, url, headers=headers, content=content, timeout=timeout or self._timeout
            )
        except httpx.InvalidURL as exc:
            raise self._error(502, f"is not a valid URL: {exc}") from None

    async def _json(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        timeout: httpx.Timeout | None = None,
    ) -> Any:
        request = self._request(method, path, body, timeout)
        try:
            response = await self._http.send(request)
        except httpx.RequestError as exc:
            raise self._transport_error(exc) from None
        if response.is_error:
            raise self._status_error(response.status_code, response.content)
        return self._decode(response.content)

    async def _read(self, response: httpx.Response) -> bytes:
        try:
            return await response.aread()
        except httpx.RequestError as exc:
            raise self._transport_error(exc) from None

    def _decode(self, content: bytes) -> Any:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise self._error(
                502, f"answered with something that is not JSON: {content[:200]!r}"
            ) from None

    def _chunk(self, data: bytes) -> dict[str, Any]:
        chunk = self._decode(data)
        if not isinstance(chunk, dict):
            raise self._error(502, f"streamed something that is not a chunk: {data[:200]!r}")
        self._raise_for_error_payload(chunk)
        return chunk

    def _one_piece_as_chunk(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise self._error(502, "answered a stream request with JSON that is not a completion")
        self._raise_for_error_payload(payload)
        choices = [
            {
                "index": choice.get("index", 0),
                "delta": choice.get("message") or {},
                "finish_reason": choice.get("finish_reason"),
            }
            for choice in payload.get("choices") or []
            if isinstance(choice, dict)
        ]
        return {**payload, "object": "chat.completion.chunk", "choices": choices}

    def _raise_for_error_payload(self, payload: dict[str, Any]) -> None:
        """Some servers report failures inside a 200 answer or mid-stream as `{"error": ...}`."""
        if payload.get("error"):
            raise self._error(502, f"failed: {_error_text(payload)}")

    def _transport_error(self, exc: httpx.RequestError) -> UpstreamError:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            kind = (
                "connect" if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout) else "read"
            )
            return self._error(504, f"did not answer in time ({kind} timeout): {detail}")
        if isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol):
            return self._error(502, f"is unreachable: {detail}")
        if isinstance(exc, httpx.NetworkError | httpx.ProtocolError):
            return self._error(502, f"dropped the connection: {detail}")
        return self._error(502, f"failed: {detail}")

    def _status_error(self, status: int, content: bytes) -> UpstreamError:
        said = _error_text_of(content)
        if status in (401, 403):
            if not self.connection.api_key:
                problem = "requires an API key and this connection has none"
            else:
                problem = "rejected the connection's API key"
            return self._error(502, f"{problem} (HTTP {status}): {said}", status)
        if status in (400, 413, 422):
            # The caller's request was at fault: show them the upstream's own words.
            return self._error(400, said, status, plain=True)
        if status == 404:
            return self._error(404, f"has no such model or endpoint (HTTP 404): {said}", status)
        if status == 429:
            return self._error(429, f"is rate limiting requests (HTTP 429): {said}", status)
        return self._error(502, f"failed (HTTP {status}): {said}", status)

    def _error(
        self, status: int, message: str, upstream_status: int | None = None, *, plain: bool = False
    ) -> UpstreamError:
        if not plain:
            message = f"upstream {self.connection.id!r} at {_safe_url(self.connection)} {message}"
        return UpstreamError(
            status,
            self._redact(message),
            connection_id=self.connection.id,
            upstream_status=upstream_status,
        )

    def _redact(self, text: str) -> str:
        key = self.connection.api_key
        return text.replace(key, "[redacted]") if key else text


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _error_text_of(content: bytes) -> str:
    try:
        payload = orjson.loads(content)
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        return _error_text(payload)
    return _truncate(content.decode("utf-8", "replace").strip() or "(empty answer)")


def _error_text(payload: dict[str, Any]) -> str:
    """The message in the error shapes servers use: OpenAI's `{"error": {"message"}}`, a bare
    `{"error": "..."}`, FastAPI's `{"detail": ...}` or `{"message": ...}`."""
    error = payload.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        found: Any = error["message"]
    elif isinstance(error, str):
        found = error
    else:
        found = payload.get("detail") or payload.get("message") or error or payload
    text = found if isinstance(found, str) else orjson.dumps(found).decode()
    return _truncate(text)


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_UPSTREAM_MESSAGE else text[:MAX_UPSTREAM_MESSAGE] + "..."


def _safe_url(connection: Connection) -> str:
    """The base URL without any `user:password@` part."""
    return re.sub(r"(?<=//)[^/@]*@", "", connection.base_url)
