"""The wire between the server and a worker process: length-prefixed orjson frames.

Each frame is a 4-byte big-endian length and an orjson map `{"k": kind, "id": call id, ...}`.
Everything crossing is plain data (dicts, lists, str, numbers). Bytes (and bytearray,
memoryview) cross whole, as `{"__pipehouse_bytes__": base64}`, and come out as `bytes`; a frame
holding any has the top bit of its length set (`TAGGED`), and only such a frame is walked to
find them, so frames of plain data (a stream's text chunks) cost what bare orjson costs.
Another value orjson cannot write (a live object a plugin put in its metadata) crosses as a
pydantic dump when it has one, and otherwise as None, so one odd value never breaks a call.
Kinds (docs/isolation.md):

server -> worker: load, unload, call, feed (stream filter input), cancel, answer (to an
                  event_call or host_call), host_chunks (a host call's streamed frames),
                  credit (more items a stream may send, credit.py), ping
worker -> server: result, error, chunks (a stream's items, batched), end, event, event_call,
                  host_call, waiting (a stream is out of credit), credit (more feed a stream
                  filter may be sent), host_credit (more frames a host call's stream may
                  send), pong, retire (a sync thread could not be stopped)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import socket
import struct
from typing import Any

import orjson

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.valves import ValvesError

HEADER = struct.Struct(">I")
SYNC_MARK = b"S"  # the byte that carries the sync channel's descriptor (connection.py)
MAX_FRAME = 256 * 1024 * 1024  # a frame longer than this is a broken peer, not a message
TAGGED = 1 << 31  # in a frame's length word: its body holds tagged bytes (module doc)
BYTES = "__pipehouse_bytes__"  # the tag: {BYTES: base64}
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class ProtocolError(RuntimeError):
    """The peer sent something that is not a frame of this protocol."""


def _plain(tagged: list[bool], value: Any) -> Any:
    """What orjson cannot write by itself: pydantic models as their dump, sets as lists,
    bytes tagged (noted in `tagged`); anything else (a client object, a callable) as None."""
    if isinstance(value, bytes | bytearray | memoryview):
        tagged.append(True)
        return {BYTES: base64.b64encode(value).decode("ascii")}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            return None
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return None


def encode(message: dict[str, Any]) -> bytes:
    """One frame, header included."""
    try:  # plain data with str keys, as nearly every frame is: orjson alone, without the
        data = orjson.dumps(message)  # options, which double its time (non-str keys' check)
    except orjson.JSONEncodeError:
        tagged: list[bool] = []
        data = orjson.dumps(message, default=functools.partial(_plain, tagged), option=_OPTIONS)
        return HEADER.pack(len(data) | (TAGGED if tagged else 0)) + data
    return HEADER.pack(len(data)) + data


def decode(frame: bytes) -> dict[str, Any]:
    """The message of one whole frame, header included (`encode`'s reverse)."""
    (size,) = HEADER.unpack_from(frame)
    return _message(frame[HEADER.size :], tagged=size >= TAGGED)


def _message(data: bytes, *, tagged: bool) -> dict[str, Any]:
    message = orjson.loads(data)
    if tagged:
        message = _revive(message)
    if not isinstance(message, dict) or "k" not in message:
        raise ProtocolError("a frame is not a message map")
    return message


def _revive(value: Any) -> Any:
    """`value` with tagged bytes made bytes again."""
    if isinstance(value, list):
        return [_revive(item) for item in value]
    if not isinstance(value, dict):
        return value
    encoded = value.get(BYTES)
    if isinstance(encoded, str) and len(value) == 1:
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:  # not ours: a plugin's own map that happens to use the key
            return value
    return {key: _revive(item) for key, item in value.items()}


async def read(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next frame, or None when the peer closed the stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("the stream ended inside a frame header") from None
        return None
    (size,) = HEADER.unpack(header)
    tagged = size >= TAGGED
    if tagged:
        size -= TAGGED
    if size > MAX_FRAME:
        raise ProtocolError(f"a frame of {size} bytes is larger than {MAX_FRAME}")
    try:
        data = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise ProtocolError("the stream ended inside a frame") from None
    message = orjson.loads(data)  # as `_message`, inline: the hot path pays no call
    if tagged:
        message = _revive(message)
    if not isinstance(message, dict) or "k" not in message:
        raise ProtocolError("a frame is not a message map")
    return message


def read_blocking(sock: socket.socket) -> dict[str, Any]:
    """The next frame from a blocking socket (the worker's sync channel)."""

    def exactly(size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            part = sock.recv(size - len(data))
            if not part:
                raise ProtocolError("the server closed the sync channel")
            data += part
        return bytes(data)

    (size,) = HEADER.unpack(exactly(HEADER.size))
    tagged = size >= TAGGED
    if tagged:
        size -= TAGGED
    if size > MAX_FRAME:
        raise ProtocolError(f"a frame of {size} bytes is larger than {MAX_FRAME}")
    return _message(exactly(size), tagged=tagged)


def error_data(error: PluginError) -> dict[str, Any]:
    """A PluginError as plain data (it is one already: its fields, and whether it is about
    valves, which the API answers differently)."""
    fields = {name: getattr(error, name) for name in PluginError.__dataclass_fields__}
    return {**fields, "valves": isinstance(error, ValvesError)}


def error_from(data: dict[str, Any]) -> PluginError:
    """The PluginError a worker reported, rebuilt on the server's side."""
    fields = {k: v for k, v in data.items() if k in PluginError.__dataclass_fields__}
    cls = ValvesError if data.get("valves") else PluginError
    return cls(**fields)


class FrameWriter:
    """Frames written in one go per turn of the event loop: concurrent calls share a `send`
    (a system call, and a wake-up of the other process) instead of paying one each."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._pending: list[bytes] = []

    def write(self, message: dict[str, Any]) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(encode(message))

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self.writer.is_closing():
                self.writer.write(data)

    async def drain(self) -> None:
        self.flush()
        await self.writer.drain()


READ_SIZE = 1 << 16  # bytes taken from the stream per read (a longer frame's rest: exactly)


class FrameReader:
    """The frames of each read at once: the reading task wakes once per batch the other side
    sent (`FrameWriter` sends one per turn of its loop), not twice per frame as with `read`."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    async def frames(self) -> list[dict[str, Any]]:
        """The next frames, in order; an empty list once the peer closed the stream."""
        data = await self.reader.read(READ_SIZE)
        messages: list[dict[str, Any]] = []
        while data:
            used, missing = _split(data, messages)
            if not missing:
                break
            try:  # the read ended inside a frame: its rest comes next
                data = data[used:] + await self.reader.readexactly(missing)
            except asyncio.IncompleteReadError:
                raise ProtocolError("the stream ended inside a frame") from None
        return messages


def _split(data: bytes, messages: list[dict[str, Any]]) -> tuple[int, int]:
    """Append the whole frames at the start of `data` to `messages`; the bytes they took, and
    how many more the frame after them needs (0: `data` ended with a frame)."""
    used, end = 0, len(data)
    while used < end:
        if end - used < HEADER.size:
            return used, HEADER.size - (end - used)
        (size,) = HEADER.unpack_from(data, used)
        tagged = size >= TAGGED
        if tagged:
            size -= TAGGED
        if size > MAX_FRAME:
            raise ProtocolError(f"a frame of {size} bytes is larger than {MAX_FRAME}")
        start = used + HEADER.size
        if end - start < size:
            return used, start + size - end
        messages.append(_message(data[start : start + size], tagged=tagged))
        used = start + size
    return used, 0
