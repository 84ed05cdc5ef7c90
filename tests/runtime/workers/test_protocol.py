"""The wire (runtime/workers/protocol.py): frames over a real socket pair, errors as data."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.valves import ValvesError
from pipehouse.runtime.workers import protocol


async def pair() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, socket.socket]:
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    return reader, writer, theirs


async def test_frames_written_in_one_turn_arrive_whole_and_in_order():
    reader, writer, theirs = await pair()
    _, other_writer = await asyncio.open_unix_connection(sock=theirs)
    frames = protocol.FrameWriter(other_writer)
    for n in range(3):
        frames.write({"k": "chunks", "id": n, "items": ["tok ", {"x": object()}]})
    await frames.drain()
    got = [await protocol.read(reader) for _ in range(3)]
    assert [m["id"] for m in got] == [0, 1, 2]
    assert got[0]["items"] == ["tok ", {"x": None}]  # what is not data crosses as None
    other_writer.close()
    assert await protocol.read(reader) is None  # the peer closed: no more frames
    writer.close()


async def test_a_stream_cut_inside_a_frame_is_a_protocol_error():
    reader, writer, theirs = await pair()
    theirs.sendall(protocol.encode({"k": "result", "id": 1})[:-3])
    theirs.close()
    with pytest.raises(protocol.ProtocolError, match="inside a frame"):
        await protocol.read(reader)
    writer.close()


def test_errors_cross_as_data_and_keep_their_kind():
    error = ValvesError(plugin_id="p", message="bad", stage="valves", details={"errors": []})
    back = protocol.error_from(protocol.error_data(error))
    assert isinstance(back, ValvesError) and back.details == {"errors": []}
    plain = protocol.error_from(protocol.error_data(PluginError(plugin_id="p", message="m")))
    assert type(plain) is PluginError and str(plain) == str(PluginError("p", "m"))
