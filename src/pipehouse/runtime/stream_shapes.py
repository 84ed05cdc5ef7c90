"""The shapes a source's chunks take on the way to the client: a completion given as a chunk, a
role-only opening chunk that would repeat pipehouse's own, a finish chunk split from the delta it
carries (sent last), and a stream's error as its last frame."""

from __future__ import annotations

from typing import Any

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.encoding import error_body
from pipehouse.upstream.client import UpstreamError


def only_opens_the_message(chunk: dict[str, Any], first: dict[str, Any]) -> bool:
    """A chunk that says nothing but `role: assistant` (what OpenAI-style servers send first):
    a second one after pipehouse's own opening chunk would be noise."""
    delta = first.get("delta")
    return (
        type(delta) is dict
        and delta.get("role") == "assistant"
        and not delta.get("content")
        and delta.keys() <= {"role", "content", "refusal"}
        and not first.get("finish_reason")
        and not chunk.get("usage")
    )


def split_finish(chunk: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A finish chunk that also carries a delta (text a stream filter added to it, a last
    token, tool calls) as two: that delta now, and a bare finish chunk to send last."""
    first = chunk["choices"][0]
    delta = first.get("delta")
    if not isinstance(delta, dict) or not any(v for k, v in delta.items() if k != "role"):
        return None, chunk
    ahead = {k: v for k, v in chunk.items() if k != "usage"}
    ahead["choices"] = [{**first, "finish_reason": None}]
    return ahead, {**chunk, "choices": [{**first, "delta": {}}]}


def completion_to_chunk(completion: dict[str, Any]) -> dict[str, Any]:
    first = completion["choices"][0]
    message = first.get("message") or {}
    delta = {k: v for k, v in message.items() if v is not None}
    chunk = {k: v for k, v in completion.items() if k not in ("choices", "object")}
    chunk["object"] = "chat.completion.chunk"
    chunk["choices"] = [
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": first.get("finish_reason")}
    ]
    return chunk


def stream_error(error: PluginError | UpstreamError) -> dict[str, Any]:
    if isinstance(error, UpstreamError):
        return error_body(
            error.message, type_="upstream_error", code=error.status, upstream=error.connection_id
        )
    return error_body(
        str(error.message),
        type_="plugin_error",
        code=error.error_type,
        plugin=error.plugin_id,
        stage=error.stage,
    )
