"""How one yielded item is read (items.py; Open WebUI's `process_line`, Open WebUI 0.12.4
functions.py)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from pipehouse.runtime.items import (
    normalize,
    sse_text_items,
    streaming_response_items,
)
from tests.conftest import collect


class Point(BaseModel):
    x: int
    y: int


async def agen(*items):
    for item in items:
        yield item


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("text", "text"),  # any other string is answer text
        ({"a": 1}, {"a": 1}),  # dicts are JSON objects
        (Point(x=1, y=2), {"x": 1, "y": 2}),  # BaseModel => its dump
        (b"bytes", "bytes"),  # bytes are decoded as UTF-8
        ('data: {"a": 1}\n\n', [{"a": 1}]),  # a ready-made SSE line is its JSON object
        ('data:{"a": 1}', [{"a": 1}]),  # with or without the space
        (b'data: {"a": 1}\n\n', [{"a": 1}]),
        ('data: {"a": 1}\n\ndata: {"b": 2}\n\n', [{"a": 1}, {"b": 2}]),  # two events, one item
        # Deviation from Open WebUI (which forwards it verbatim): an upstream's own [DONE] is
        # dropped so the stream is not ended before pipehouse's finish, usage and outlet frames.
        ("data: [DONE]", []),
        # Deviations from Open WebUI, whose process_line crashes on None and numbers and turns ""
        # into a finish chunk: None and "" are skipped, numbers become their text.
        (None, None),
        ("", None),
        (3, "3"),
        (2.5, "2.5"),
    ],
)
def test_normalize(item, expected):
    assert normalize(item) == expected


def test_data_line_that_is_not_a_json_object_is_dropped():
    # Deviates from Open WebUI (forwards the raw line, which clients then fail to parse).
    assert normalize("data: not json") == []
    assert normalize('data: "a string"') == []


def test_sse_text_reads_data_lines_and_bare_json_lines_only():
    text = ': a comment\nevent: message\ndata: {"a": 1}\n\n{"b": 2}\nretry: 10\n'
    assert sse_text_items(text) == [{"a": 1}, {"b": 2}]


async def test_streaming_response_items_are_resplit_by_line():
    body = agen(
        'data: {"n": 1}\n\ndata: {"n": 2}\n\n',  # two events in one item
        'data: {"n"',  # one event split across items...
        b": 3}\n\n",  # ...ending in bytes
        'data: {"n": 4}',  # no final newline: still read at the end
    )
    assert await collect(streaming_response_items(body)) == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
