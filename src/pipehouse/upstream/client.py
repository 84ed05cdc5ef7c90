"""Talking to one OpenAI-compatible model server: list its models, complete, stream.

Every failure becomes an `UpstreamError` carrying the status pipehouse should answer its own
client with, so callers never translate aiohttp exceptions or upstream bodies themselves. Error
messages never contain the connection's API key, even when an upstream echoes it back.
The HTTP connections are `upstream/http.py`'s (one aiohttp session, kept alive per upstream).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
import orjson

from pipehouse.upstream.connections import Connection
from pipehouse.upstream.http import UpstreamHTTP, proxy_for
from pipehouse.upstream.sse import SSEParser

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


class UpstreamClient:
    """One connection's API, over the shared `UpstreamHTTP` (its connections are reused by all)."""

    def __init__(
        self,
        connection: Connection,
        http: UpstreamHTTP,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        listing_timeout: float = DEFAULT_LISTING_TIMEOUT,
    ) -> None:
        self.connection = connection
        self._http = http
        # `sock_read` is the longest wait for the next bytes (the answer's head included), so
        # a slow but steady stream is never cut off; no limit on a whole answer's length.
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        listing_read = (
            listing_timeout if read_timeout is None else min(read_timeout, listing_timeout)
        )
        self._listing_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=listing_read,
        )
        # Built once: every request to this connection sends the same headers.
        auth = {"Authorization": f"Bearer {connection.api_key}"} if connection.api_key else {}
        self._get_headers = {"Accept": "application/json", **auth}
        self._json_headers = {**self._get_headers, "Content-Type": "application/json"}
        self._sse_headers = {**self._json_headers, "Accept": "text/event-stream"}
        # The key wins over `user:password@` in the URL (aiohttp refuses to send both).
        self._base_url = _safe_url(connection) if connection.api_key else connection.base_url
        self._chat_url = f"{self._base_url}/chat/completions"
        self._proxy = proxy_for(self._base_url)

    async def list_models(self) -> list[dict[str, Any]]:
        """The upstream's model objects (OpenAI's `data`, or Ollama's `models` renamed to ids)."""
        url = f"{self._base_url}/models"
        response = await self._send("GET", url, None, self._get_headers, self._listing_timeout)
        payload = self._decode(await self._answer(response))
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
        content = orjson.dumps({**body, "stream": False})
        response = await self._send("POST", self._chat_url, content, self._json_headers)
        payload = self._decode(await self._answer(response))
        if not isinstance(payload, dict):
            raise self._error(502, "answered with JSON that is not a completion")
        self._raise_for_error_payload(payload)
        return payload

    async def stream_batches(
        self, body: dict[str, Any]
    ) -> AsyncGenerator[list[dict[str, Any]], None]:
        """The upstream's chunks as dicts, a network read at a time: each list holds the chunks
        one read of the socket completed (never empty), so that the turn hands on a read's
        worth per step instead of one chunk per step (bench/README.md, "upstream.py"). Close the
        generator (`aclose()`) to stop early: that closes the HTTP connection, so the upstream
        sees the disconnect and stops generating.

        Reading stops while the caller does not ask for more, and aiohttp then stops reading
        the socket once its buffer is full: a slow client slows the upstream down instead of
        piling its answer up in memory. A list is at most one read of that buffer."""
        content = orjson.dumps({**body, "stream": True})
        response = await self._send("POST", self._chat_url, content, self._sse_headers)
        try:
            if response.status >= 400:
                raise self._status_error(response.status, await self._read(response))
            if "json" in response.content_type:
                # An error, or a server that ignored `stream: true` and answered in one piece.
                yield [self._one_piece_as_chunk(self._decode(await self._read(response)))]
                return
            parser = SSEParser()
            done = False
            try:
                # Read to the end of the body even after `[DONE]` (it is normally right there),
                # so that the connection goes back to the pool for the next request.
                async for piece in response.content.iter_any():
                    if done:
                        continue
                    events = parser.feed(piece)
                    if not events:
                        continue
                    if b"[DONE]" in events:
                        done = True
                        events = events[: events.index(b"[DONE]")]
                    chunks, failure = self._chunks(events)
                    if chunks:
                        yield chunks
                    if failure is not None:
                        raise failure
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise self._transport_error(exc) from None
            if not done:
                events = [data for data in parser.close() if data != b"[DONE]"]
                chunks, failure = self._chunks(events)
                if chunks:
                    yield chunks
                if failure is not None:
                    raise failure
        finally:
            # A body read to its end keeps the connection alive; one left unread (the caller
            # stopped early, an error) closes it, which tells the upstream to stop.
            if response.content.is_eof():
                response.release()
            else:
                response.close()

    # -- plumbing ---------------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        url: str,
        content: bytes | None,
        headers: dict[str, str],
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        try:
            return await self._http.session.request(
                method,
                url,
                data=content,
                headers=headers,
                timeout=timeout or self._timeout,
                proxy=self._proxy,
            )
        except aiohttp.InvalidURL as exc:
            raise self._error(502, f"is not a valid URL: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc) from None
        except ValueError as exc:  # a request aiohttp refuses to make
            raise self._error(502, f"cannot be called: {exc}") from None

    async def _answer(self, response: aiohttp.ClientResponse) -> bytes:
        """A whole answer's body; an HTTP error status becomes the `UpstreamError` it means."""
        try:
            content = await self._read(response)
        finally:
            response.release()
        if response.status >= 400:
            raise self._status_error(response.status, content)
        return content

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        try:
            return await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._transport_error(exc) from None

    def _decode(self, content: bytes) -> Any:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise self._error(
                502, f"answered with something that is not JSON: {content[:200]!r}"
            ) from None

    def _chunks(self, events: list[bytes]) -> tuple[list[dict[str, Any]], UpstreamError | None]:
        """The events' chunks, up to the first that is not one or reports an error: that one
        comes back as the error to raise once the chunks before it are handed on."""
        chunks: list[dict[str, Any]] = []
        for data in events:
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                failure = f"answered with something that is not JSON: {data[:200]!r}"
                return chunks, self._error(502, failure)
            if type(chunk) is not dict:
                failure = f"streamed something that is not a chunk: {data[:200]!r}"
                return chunks, self._error(502, failure)
            if chunk.get("error"):
                return chunks, self._error(502, f"failed: {_error_text(chunk)}")
            chunks.append(chunk)
        return chunks, None

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

    def _transport_error(self, exc: Exception) -> UpstreamError:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
            kind = "connect" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "read"
            return self._error(504, f"did not answer in time ({kind} timeout): {detail}")
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.NonHttpUrlClientError):
            return self._error(502, f"is unreachable: {detail}")
        if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
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
