"""The baseline for bench/server.py: a bare Starlette endpoint doing the same I/O as pipehouse.

It reads and parses the JSON body, answers with the same OpenAI-shaped `chat.completion`
(orjson), and for `"stream": true` returns a `StreamingResponse` yielding a role chunk,
`max_tokens` text chunks (one yield and one `orjson.dumps` per chunk, like a naive server), a
finish chunk and `data: [DONE]`. No auth, no filters, no logging, no metrics. `GET /v1/models`
lists one model, `bench-upstream`, so that bench/upstream.py can put pipehouse in front of it as
an upstream model server.

    .venv/bin/python -m uvicorn --app-dir bench bare_app:app --port 8001 --log-level warning
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

TOKEN = "tok "  # what bench/plugins/server/bench_stream.py yields
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DONE = b"data: [DONE]\n\n"


def _chunk(cid: str, created: int, model: str, delta: dict, finish: str | None) -> bytes:
    chunk = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _completion(cid: str, created: int, model: str, content: str) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def chat_completions(request: Request) -> Response:
    body = orjson.loads(await request.body())
    model = body.get("model") or "bench"
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.get("stream"):
        return Response(
            orjson.dumps(_completion(cid, created, model, "ok")), media_type="application/json"
        )
    count = int(body.get("max_tokens") or 1000)

    async def frames():
        yield _chunk(cid, created, model, {"role": "assistant", "content": ""}, None)
        for _ in range(count):
            yield _chunk(cid, created, model, {"content": TOKEN}, None)
        yield _chunk(cid, created, model, {}, "stop")
        yield DONE

    return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


MODELS = orjson.dumps(
    {
        "object": "list",
        "data": [{"id": "bench-upstream", "object": "model", "created": 0, "owned_by": "bench"}],
    }
)


async def models(request: Request) -> Response:
    return Response(MODELS, media_type="application/json")


async def health(request: Request) -> Response:
    return Response(b'{"status":true}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models),
        Route("/health", health),
    ]
)
