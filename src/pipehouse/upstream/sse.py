"""Server-Sent Events from an upstream's streamed answer, as the `data` payloads it carries.

Hand-written rather than httpx-sse's decoders (aiohttp, the client, has no SSE support of its
own): this one splits whole network reads at once, without a str or an object per line or per
event. `bench/sse.py` runs both on the bytes of 100-chunk OpenAI streams: 1.78 against 3.49 µs
per event fed one read per event (2.0x), 1.15 against 2.74 µs in 4 KiB reads (2.4x).
"""

from __future__ import annotations


class SSEParser:
    """Incremental Server-Sent Events parser: feed network chunks, get complete `data` payloads.

    Chunks may split lines (or a `\\r\\n`) anywhere; comments and other fields are ignored, and
    an event's `data` lines are joined by newlines as the SSE specification says.
    """

    def __init__(self) -> None:
        self._partial = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        text = self._partial + chunk
        held = b""
        if text.endswith(b"\r"):  # may be the first half of "\r\n"
            text, held = text[:-1], b"\r"
        lines = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._partial = lines.pop() + held
        events = []
        for line in lines:
            if not line:
                events.extend(self._dispatch())
            elif not line.startswith(b":"):
                name, _, value = line.partition(b":")
                if name == b"data":
                    self._data.append(value.removeprefix(b" "))
        return events

    def close(self) -> list[bytes]:
        """Whatever the stream left unterminated (a final event without its blank line)."""
        events = self.feed(b"\n") if self._partial else []
        return events + self._dispatch()

    def _dispatch(self) -> list[bytes]:
        data, self._data = self._data, []
        return [b"\n".join(data)] if data else []
