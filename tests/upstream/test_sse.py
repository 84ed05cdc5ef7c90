"""The upstream SSE parser: the same events wherever the network splits the bytes."""

from __future__ import annotations

from pipehouse.upstream.sse import SSEParser


def test_sse_parser_gives_the_same_events_wherever_the_bytes_are_split():
    raw = (
        b": keep-alive comment\r\n\r\n"
        b'event: message\r\ndata: {"n": 1}\r\n\r\n'
        b'data:{"n": 2}\n\n'
        b'data: {"text": "two\r\ndata: lines"}\r\n\r\n'
        b"data: [DONE]\n\n"
    )
    # the third event's two `data:` lines are joined by a newline, as the SSE spec says
    expected = [b'{"n": 1}', b'{"n": 2}', b'{"text": "two\nlines"}', b"[DONE]"]
    for cut in range(1, len(raw)):
        parser = SSEParser()
        events = parser.feed(raw[:cut]) + parser.feed(raw[cut:]) + parser.close()
        assert events == expected, cut
    byte_by_byte = SSEParser()
    assert [e for b in raw for e in byte_by_byte.feed(bytes([b]))] == expected


def test_sse_parser_keeps_a_final_event_without_its_blank_line():
    parser = SSEParser()
    assert parser.feed(b'data: {"n": 1}') == []
    assert parser.close() == [b'{"n": 1}']
