"""The worker wire's cost per frame (src/pipehouse/runtime/workers/protocol.py): writing and
reading the frames a stream sends, against the wire as it was before bytes crossed tagged, in the
same run (`old_encode`, `old_read` below: orjson with a default that turned bytes into text).

    .venv/bin/python bench/protocol.py [--frames 100000] [--repeat 15] [--cpu N]

The frames are what a worker's `_pump` sends: one `chunks` frame of one text item (a stream
flushed every turn of the loop), of one OpenAI chunk dict, and of a full batch of 256 text
items; and, for the cost of bytes themselves, a host call's answer holding 64 KiB of bytes (the
old wire turned them into text, and lost them). `read` takes frames from an asyncio
StreamReader, as the server and the worker do. Figures are process CPU time per frame, the
fastest of the runs (old and new take turns; on a shared machine other work only ever adds
time); `spread` is the new wire's median over its fastest. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from pipehouse.runtime.workers import protocol

OPENAI_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}],
}
FRAMES: dict[str, dict[str, Any]] = {
    "chunks, 1 text item": {"k": "chunks", "id": 7, "items": ["tok "]},
    "chunks, 1 OpenAI dict": {"k": "chunks", "id": 7, "items": [OPENAI_CHUNK]},
    "chunks, 256 text items": {"k": "chunks", "id": 7, "items": ["tok "] * 256},
    "answer, 64 KiB bytes": {"k": "answer", "r": 3, "value": os.urandom(64 * 1024)},
}
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
HEADER = protocol.HEADER


def _as_text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def old_encode(message: dict[str, Any]) -> bytes:
    data = orjson.dumps(message, default=_as_text, option=_OPTIONS)
    return HEADER.pack(len(data)) + data


async def old_read(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    header = await reader.readexactly(HEADER.size)
    (size,) = HEADER.unpack(header)
    if size > protocol.MAX_FRAME:
        raise protocol.ProtocolError("too large")
    data = await reader.readexactly(size)
    message = orjson.loads(data)
    if not isinstance(message, dict) or "k" not in message:
        raise protocol.ProtocolError("a frame is not a message map")
    return message


def reading(read: Callable[..., Any], frame: bytes, count: int) -> Callable[[], None]:
    """`count` reads of `frame`, as one run (the stream is filled before the clock starts)."""

    def run() -> None:
        async def drain() -> None:
            reader = asyncio.StreamReader(limit=2**30)
            reader.feed_data(frame * count)
            started = time.process_time()
            for _ in range(count):
                await read(reader)
            run.elapsed = time.process_time() - started  # type: ignore[attr-defined]

        asyncio.run(drain())

    return run


def writing(encode: Callable[[dict[str, Any]], bytes], message: dict[str, Any], count: int):
    def run() -> None:
        started = time.process_time()
        for _ in range(count):
            encode(message)
        run.elapsed = time.process_time() - started  # type: ignore[attr-defined]

    return run


def per_frame(old: Any, new: Any, count: int, repeat: int) -> tuple[float, float, float]:
    """µs per frame, old and new (fastest run), and the new one's spread."""
    times: dict[Any, list[float]] = {old: [], new: []}
    for _ in range(repeat):
        for run, found in times.items():
            run()
            found.append(run.elapsed / count * 1e6)
    return min(times[old]), min(times[new]), statistics.median(times[new]) / min(times[new])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core (Linux)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    print(f"{'frame':<24} {'step':<7} {'old µs':>8} {'new µs':>8} {'ratio':>6} {'spread':>6}")
    for name, message in FRAMES.items():
        count = args.frames if "256" not in name and "KiB" not in name else args.frames // 50
        steps = {
            "encode": (
                writing(old_encode, message, count),
                writing(protocol.encode, message, count),
            ),
            "read": (
                reading(old_read, old_encode(message), count),
                reading(protocol.read, protocol.encode(message), count),
            ),
        }
        for step, (old, new) in steps.items():
            before, after, spread = per_frame(old, new, count, args.repeat)
            ratio = after / before
            print(f"{name:<24} {step:<7} {before:8.3f} {after:8.3f} {ratio:6.2f} {spread:6.2f}")


if __name__ == "__main__":
    main()
