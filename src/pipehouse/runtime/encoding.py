"""OpenAI chat-completion objects and the SSE frames that carry them.

One id per completion (Open WebUI makes a new one per chunk), a role delta first, one finish
chunk, the reported `usage` when `stream_options.include_usage` asks (none is estimated), and
`data: [DONE]` followed by the blank line that ends an SSE event (Open WebUI omits it). Text
chunks, by far the most frequent, are spliced into a pre-rendered template instead of being
serialised as a whole.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
from pydantic import BaseModel

from pipehouse.runtime.ids import unique_hex

DONE = b"data: [DONE]\n\n"
_TEXT_TAIL = b'},"logprobs":null,"finish_reason":null}]}\n\n'


def _fallback(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_fallback)
    except TypeError:  # keys that are not strings, integers beyond 64 bits: rare, slower
        return json.dumps(value, default=_fallback, ensure_ascii=False).encode()


def frame(value: Any) -> bytes:
    """One SSE event holding `value` as JSON."""
    return b"data: " + dumps(value) + b"\n\n"


class ChunkEncoder:
    """Builds the chunks and the final object of one completion."""

    def __init__(self, model: str, completion_id: str | None = None) -> None:
        self.id = completion_id or f"chatcmpl-{unique_hex()}"
        self.model = model
        self.created = int(time.time())
        self._text_head: bytes | None = None

    def text_frame(self, text: str) -> bytes:
        head = self._text_head
        if head is None:  # rendered once per stream, when the first text arrives
            framing: dict[str, object] = {"id": self.id, "object": "chat.completion.chunk"}
            framing.update(created=self.created, model=self.model)
            head = self._text_head = (
                b"data: " + dumps(framing)[:-1] + b',"choices":[{"index":0,"delta":{"content":'
            )
        return head + orjson.dumps(text) + _TEXT_TAIL

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }

    def text_chunk(self, text: str) -> dict[str, Any]:
        return self.chunk({"content": text})

    def role_chunk(self) -> dict[str, Any]:
        return self.chunk({"role": "assistant", "content": ""})

    def finish_chunk(self, reason: str = "stop") -> dict[str, Any]:
        return self.chunk({}, reason)

    def usage_chunk(self, usage: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage,
        }

    def adopt(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """A chunk the plugin built: give it this completion's id (and any missing framing)."""
        chunk["id"] = self.id
        chunk.setdefault("object", "chat.completion.chunk")
        chunk.setdefault("created", self.created)
        chunk.setdefault("model", self.model)
        return chunk

    def completion(
        self,
        content: str | None,
        *,
        reasoning: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        finish_reason: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if reasoning:
            message["reasoning_content"] = reasoning
        if tool_calls:
            message["tool_calls"] = tool_calls
        result: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
                }
            ],
        }
        if usage is not None:
            result["usage"] = usage
        return result


def error_body(
    message: str, *, type_: str, code: str | int | None = None, **extra: Any
) -> dict[str, Any]:
    """An OpenAI-shaped error; `detail` repeats the message for Open WebUI's readers."""
    error = {"message": message, "type": type_, "param": None, "code": code, "detail": message}
    error.update(extra)
    return {"error": error}
