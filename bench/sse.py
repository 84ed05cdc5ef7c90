"""Splitting an upstream's streamed answer into SSE `data` payloads: pipehouse's own parser
(src/pipehouse/upstream/sse.py) against httpx-sse's line and event decoders, on the same bytes,
in one run. No I/O: the bytes of a 100-chunk OpenAI stream (as bench/bare_app.py sends it),
fed the way the network hands them over (one read per SSE event, or reads of 4 KiB).

    .venv/bin/python bench/sse.py [--streams 2000] [--repeat 5]

Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import codecs
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from httpx_sse._decoders import SSEDecoder, SSELineDecoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare_app import _chunk

from pipehouse.upstream.sse import SSEParser

DONE = b"data: [DONE]\n\n"


def stream_frames(chunks: int) -> list[bytes]:
    frames = [_chunk("chatcmpl-1", 1, "m", {"role": "assistant", "content": ""}, None)]
    frames += [_chunk("chatcmpl-1", 1, "m", {"content": "tok "}, None) for _ in range(chunks)]
    return [*frames, _chunk("chatcmpl-1", 1, "m", {}, "stop"), DONE]


def pipehouse_parser(reads: list[bytes]) -> list[bytes]:
    parser, out = SSEParser(), []
    for piece in reads:
        out += parser.feed(piece)
    return out + parser.close()


def httpx_sse_decoders(reads: list[bytes]) -> list[bytes]:
    """What `EventSource.aiter_sse` does per read: decode to text, split lines, decode events."""
    text, lines, events, out = (
        codecs.getincrementaldecoder("utf-8")(),
        SSELineDecoder(),
        SSEDecoder(),
        [],
    )
    for piece in reads:
        for line in lines.decode(text.decode(piece)):
            event = events.decode(line)
            if event is not None:
                out.append(event.data.encode())
    return out


VARIANTS: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "pipehouse SSEParser": pipehouse_parser,
    "httpx-sse decoders": httpx_sse_decoders,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frames = stream_frames(args.chunks)
    raw = b"".join(frames)
    feeds = {
        "one read per event": frames,
        "4 KiB reads": [raw[i : i + 4096] for i in range(0, len(raw), 4096)],
    }
    expected = [f.removeprefix(b"data: ").removesuffix(b"\n\n") for f in frames]
    print(
        f"SSE parsers: load average {os.getloadavg()[0]:.2f}; {args.streams} streams of "
        f"{len(frames)} events, median of {args.repeat}"
    )
    for feed, reads in feeds.items():
        for name, variant in VARIANTS.items():
            assert variant(reads) == expected, name
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.repeat):
            for name, variant in VARIANTS.items():
                began = time.process_time()
                for _ in range(args.streams):
                    variant(reads)
                times[name].append(time.process_time() - began)
        base = statistics.median(times["pipehouse SSEParser"])
        for name, runs in times.items():
            per_event = statistics.median(runs) / (args.streams * len(frames)) * 1e6
            ratio = statistics.median(runs) / base
            print(f"  {feed:<20}{name:<22}{per_event:>7.2f} us/event  {ratio:>5.2f}x the time")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
