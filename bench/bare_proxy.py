"""The baseline for bench/upstream.py: a bare proxy doing the same I/O as pipehouse in front of
an upstream, and nothing else.

A raw ASGI app (no framework) with one aiohttp session (the client pipehouse uses, the fastest
measured: bench/clients.py): it reads the request body, parses it to learn whether it streams,
posts it unchanged to `UPSTREAM_URL`/chat/completions over kept-alive connections, and answers
with the upstream's status and body: whole, or for a stream each piece as it is read (one ASGI
send per network read). No auth, no filters, no logging, no metrics, no SSE parsing.

    UPSTREAM_URL=http://127.0.0.1:8001/v1 .venv/bin/python -m uvicorn --app-dir bench \\
        bare_proxy:app --port 8002 --log-level warning
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
import orjson

UPSTREAM = os.environ.get("UPSTREAM_URL", "http://127.0.0.1:8001/v1") + "/chat/completions"
HEADERS = {"Content-Type": "application/json"}
_session: aiohttp.ClientSession | None = None


def session() -> aiohttp.ClientSession:
    global _session
    if _session is None:
        _session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )
    return _session


async def read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        if _session is not None:
            await _session.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/health":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        return
    body = await read_body(receive)
    stream = bool(orjson.loads(body).get("stream"))
    async with session().post(UPSTREAM, data=body, headers=HEADERS) as upstream:
        content_type = upstream.headers.get("Content-Type", "application/json").encode()
        headers = [(b"content-type", content_type)]
        await send({"type": "http.response.start", "status": upstream.status, "headers": headers})
        if not stream:
            await send({"type": "http.response.body", "body": await upstream.read()})
            return
        async for piece in upstream.content.iter_any():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
