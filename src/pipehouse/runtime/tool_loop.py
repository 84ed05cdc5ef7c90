"""Native tool calling: offer a request's tools to a model, run the calls it answers with, feed
the results back, and ask again, until it answers in words or the rounds run out.

Open WebUI runs this loop only for its own streaming chats (Open WebUI 0.12.4 utils/middleware.py);
here it runs for
every client, streaming or not. The loop is model-agnostic: it is handed a function that sends
one request to the model, so it works for any upstream connection.

A client sees the answer's text from every round (in one stream, under one completion id) and
the tools' progress as events; the `tool_calls` themselves are pipehouse's business and are not
passed on, so an OpenAI SDK loop on the client side does not try to run them a second time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, cast

from pipehouse.runtime.events import Host
from pipehouse.runtime.tools import ToolSet

# one request to the model, its chunks a network read at a time (`UpstreamClient.stream_batches`)
StreamModel = Callable[[dict[str, Any]], AsyncGenerator[list[dict[str, Any]], None]]
CallModel = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _offer(
    body: dict[str, Any], messages: list[dict[str, Any]], tools: ToolSet, offer: bool
) -> dict[str, Any]:
    """The next request: the conversation so far, with the tools while rounds remain (the last
    request goes without them, so the model has to answer from what it has)."""
    request = {**body, "messages": messages}
    if offer:
        request["tools"] = tools.specs
    else:
        request.pop("tools", None)
        request.pop("tool_choice", None)
    return request


class _CallsInProgress:
    """Tool calls as they stream in: ids and names first, arguments in fragments."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}

    def merge(self, fragments: list[dict[str, Any]]) -> None:
        for fragment in fragments:
            index = fragment.get("index", len(self._calls))
            call = self._calls.setdefault(
                index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
            )
            call["id"] = fragment.get("id") or call["id"]
            function = fragment.get("function") or {}
            call["function"]["name"] += function.get("name") or ""
            call["function"]["arguments"] += function.get("arguments") or ""

    def done(self) -> list[dict[str, Any]]:
        return [self._calls[i] for i in sorted(self._calls)]


async def stream_with_tools(
    send: StreamModel,
    body: dict[str, Any],
    tools: ToolSet,
    host: Host,
    max_rounds: int,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The model's chunks across all rounds, without the tool calls, in the batches they
    arrived in; tools run in between."""
    messages = list(body.get("messages") or [])
    for round_number in range(max_rounds + 1):
        calls = _CallsInProgress()
        text: list[str] = []
        offer = round_number < max_rounds
        # closed with this generator: a client that leaves stops the model's answer too
        async with aclosing(send(_offer(body, messages, tools, offer))) as batches:
            async for batch in batches:
                visible = [
                    shown
                    for chunk in batch
                    if (shown := _without_tool_calls(chunk, calls, text)) is not None
                ]
                if visible:
                    yield visible
        pending = calls.done()
        if not pending or not offer:
            return
        results = await tools.execute(pending, host, messages=messages)
        messages += [_assistant("".join(text), pending), *results]


async def complete_with_tools(
    send: CallModel,
    body: dict[str, Any],
    tools: ToolSet,
    host: Host,
    max_rounds: int,
) -> dict[str, Any]:
    """The model's final completion, after as many tool rounds as it asked for (up to the cap).
    Its text is that of every round, joined, as a stream would have shown it."""
    messages = list(body.get("messages") or [])
    said: list[str] = []
    for round_number in range(max_rounds + 1):
        offer = round_number < max_rounds
        completion = await send(_offer(body, messages, tools, offer))
        choices = completion.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else {}
        message = first.get("message") if isinstance(first, dict) else None
        if not isinstance(message, dict):
            return completion
        pending = message.get("tool_calls") or []
        if not pending or not offer:
            if said and isinstance(message.get("content"), str):
                message["content"] = "".join(said) + message["content"]
            return completion
        said.append(message.get("content") or "")
        results = await tools.execute(pending, host, messages=messages)
        messages += [_assistant(message.get("content") or "", pending), *results]
    raise AssertionError("unreachable: the last round offers no tools and returns")


def _without_tool_calls(
    chunk: dict[str, Any], calls: _CallsInProgress, text: list[str]
) -> dict[str, Any] | None:
    """The chunk as the client sees it: tool-call fragments (and the `tool_calls` finish
    reason) taken out into `calls`, None when nothing else was in it."""
    choices = chunk.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(first, dict):
        return chunk
    delta = first.get("delta") or {}
    if isinstance(delta.get("content"), str):
        text.append(delta["content"])
    fragments = delta.get("tool_calls")
    if not fragments and first.get("finish_reason") != "tool_calls":
        return chunk
    if fragments:
        calls.merge(fragments)
        delta = {k: v for k, v in delta.items() if k != "tool_calls"}
    finish = None if first.get("finish_reason") == "tool_calls" else first.get("finish_reason")
    if not delta and not finish and not chunk.get("usage"):
        return None
    first = {**first, "delta": delta, "finish_reason": finish}
    return {**chunk, "choices": [first, *cast(list[Any], choices)[1:]]}


def _assistant(text: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "assistant", "content": text or None, "tool_calls": calls}
