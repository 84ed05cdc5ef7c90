"""What a pipe yields, reduced to plain data: `str` (answer text) or `dict` (a JSON object).

Open WebUI's `process_line` turns each yielded item into an SSE line: Pydantic models and dicts
become `data: {json}`, bytes are decoded, strings already starting with `data:` pass verbatim and
any other string becomes a content chunk. The same reading is applied here, except that `data:`
lines are parsed (so stream filters and the encoder see objects, and `[DONE]` is not forwarded
early), and `None`, numbers and empty strings no longer crash or end the answer.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import orjson
from pydantic import BaseModel

log = logging.getLogger(__name__)

Item = str | dict[str, Any]


def utf8_decoder() -> codecs.IncrementalDecoder:
    """A decoder for one stream's bytes, so a character split across two chunks arrives whole
    (decoding each chunk alone would turn both halves into U+FFFD)."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


def _data_payload(payload: str) -> list[Item]:
    payload = payload.strip()
    if not payload or payload == "[DONE]":
        return []
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        log.warning("dropped a 'data:' line that is not JSON: %.80s", payload)
        return []
    if isinstance(value, dict):
        return [value]
    log.warning("dropped a 'data:' line whose JSON is not an object: %.80s", payload)
    return []


def sse_text_items(text: str) -> list[Item]:
    """Items in a piece of SSE (or NDJSON) text: every `data:` line, and bare JSON object lines."""
    items: list[Item] = []
    for line in text.splitlines():
        if line.startswith("data:"):
            items.extend(_data_payload(line[5:]))
        elif line.startswith("{"):
            items.extend(_data_payload(line))
    return items


def normalize(item: Any) -> list[Item] | Item | None:
    """One yielded item as text or an object; a list when one item held several SSE events.
    Bytes are best decoded by the caller, with `utf8_decoder`, across the whole stream."""
    if isinstance(item, str):
        if type(item) is not str:  # a str subclass (pyfiglet's FigletString) is text too
            item = str.__str__(item)
        if item.startswith("data:"):
            return sse_text_items(item)
        return item or None
    if isinstance(item, dict):
        return item
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json")
    if isinstance(item, bytes | bytearray):
        return normalize(item.decode("utf-8", errors="replace"))
    if item is None:
        return None
    return str(item)


async def streaming_response_items(body: AsyncIterable[Any]) -> AsyncIterator[Item]:
    """A `StreamingResponse` body, re-split into events whatever its item boundaries are."""
    pending = ""
    decoder = utf8_decoder()
    async for raw in body:
        pending += decoder.decode(raw) if isinstance(raw, bytes | bytearray) else str(raw)
        if "\n" not in pending:
            continue
        complete, _, pending = pending.rpartition("\n")
        for item in sse_text_items(complete):
            yield item
    for item in sse_text_items(pending + decoder.decode(b"", final=True)):
        yield item
