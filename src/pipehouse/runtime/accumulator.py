"""The chunk accumulator: one answer collected from a source's items (text, reasoning, tool
calls, finish reason, usage), for a completion and for what outlet filters see after a stream."""

from __future__ import annotations

import logging
from typing import Any

from pipehouse.runtime.encoding import ChunkEncoder
from pipehouse.runtime.events import Host
from pipehouse.runtime.items import Item

log = logging.getLogger(__name__)


class Accumulator:
    """Collects an answer from items: text, reasoning, tool calls, finish reason, usage."""

    def __init__(self, encoder: ChunkEncoder) -> None:
        self.encoder = encoder
        self.parts: list[str] = []
        self._reasoning: list[str] = []
        self._tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self._saw_object = False

    @property
    def has_content(self) -> bool:
        return bool(self.parts) or self._saw_object

    def text(self) -> str:
        return "".join(self.parts)

    def reasoning(self) -> str | None:
        return "".join(self._reasoning) or None

    def tool_calls(self) -> list[dict[str, Any]] | None:
        if not self._tool_calls:
            return None
        return [self._tool_calls[i] for i in sorted(self._tool_calls)]

    def add_chunk(self, chunk: dict[str, Any]) -> bool:
        """Take in one chunk; True when it finishes the answer (it has a `finish_reason`)."""
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage  # reported totals replace, never add up (Open WebUI sums them)
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return False
        self._saw_object = True
        first = choices[0]
        delta = first.get("delta")
        if type(delta) is dict and len(delta) == 1 and not first.get("finish_reason"):
            content = delta.get("content")  # the usual text chunk: nothing else to look at
            if type(content) is str:
                self.parts.append(content)
                return False
        finishes = bool(first.get("finish_reason"))
        if finishes:
            self.finish_reason = first["finish_reason"]
        delta = first.get("delta") or first.get("message") or {}
        content = delta.get("content")
        if content:
            self.parts.append(content if isinstance(content, str) else str(content))
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str):
            self._reasoning.append(reasoning)
        for call in delta.get("tool_calls") or []:
            self._merge_tool_call(call)
        return finishes

    def _merge_tool_call(self, call: dict[str, Any]) -> None:
        index = call.get("index", len(self._tool_calls))
        known = self._tool_calls.setdefault(
            index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if call.get("id"):
            known["id"] = call["id"]
        function = call.get("function") or {}
        if function.get("name"):
            known["function"]["name"] += function["name"]
        if function.get("arguments"):
            known["function"]["arguments"] += function["arguments"]

    async def add(self, item: Item, host: Host) -> None:
        if isinstance(item, str):
            self.parts.append(item)
        elif isinstance(item.get("event"), dict):
            await host.emit(item["event"])
        else:
            self.add_chunk(item)

    def add_value(self, value: Any, plugin_id: str) -> None:
        if isinstance(value, str):
            self.parts.append(value)
        elif isinstance(value, dict):
            self.add_chunk(value)
        else:
            log.warning(
                "pipe %s returned a %s; answered with no content", plugin_id, type(value).__name__
            )
