"""The wire (runtime/workers/protocol.py): frames over a real socket pair, errors as data."""

from __future__ import annotations

import asyncio
import io
import socket
from types import SimpleNamespace

import pytest
from starlette.datastructures import Headers, UploadFile

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.valves import ValvesError
from pipehouse.runtime.workers import protocol, remote

EVERY_BYTE = bytes(range(256))


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


async def test_bytes_cross_whole_both_ways():
    reader, writer, theirs = await pair()
    other_reader, other_writer = await asyncio.open_unix_connection(sock=theirs)
    value = {
        "image": b"\x89PNG\r\n\x1a\n" + EVERY_BYTE,
        "parts": [bytearray(b"\x00\xff"), memoryview(b"\xfe"), b""],
        "text": "tok ",
    }
    protocol.FrameWriter(other_writer).write({"k": "host_call", "r": 1, "args": [value]})
    asked = await protocol.read(reader)
    assert asked["args"] == [
        {
            "image": b"\x89PNG\r\n\x1a\n" + EVERY_BYTE,
            "parts": [b"\x00\xff", b"\xfe", b""],
            "text": "tok ",
        }
    ]
    assert type(asked["args"][0]["image"]) is bytes
    writer.write(protocol.encode({"k": "answer", "r": 1, "value": (EVERY_BYTE, "ok")}))
    assert await protocol.read(other_reader) == {"k": "answer", "r": 1, "value": [EVERY_BYTE, "ok"]}
    other_writer.close()
    writer.close()


def test_the_sync_channel_reads_bytes_too():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(protocol.encode({"k": "answer", "r": 0, "value": EVERY_BYTE}))
        assert protocol.read_blocking(ours)["value"] == EVERY_BYTE


def test_plain_data_that_looks_like_the_tag_stays_as_it_is():
    own = {"__pipehouse_bytes__": "aGk="}  # a plugin's own map, in a frame without bytes
    assert protocol.decode(protocol.encode({"k": "chunks", "items": [own]}))["items"] == [own]
    mixed = protocol.decode(
        protocol.encode({"k": "r", "v": [b"hi", own, {protocol.BYTES: "not base64!"}]})
    )
    assert mixed["v"][0] == b"hi" and mixed["v"][2] == {protocol.BYTES: "not base64!"}


def test_open_files_cross_as_files_at_the_same_position():
    upload = UploadFile(
        io.BytesIO(b"\x89PNG" + EVERY_BYTE),
        filename="cat.png",
        headers=Headers({"content-type": "image/png"}),
    )
    upload.file.seek(3)
    buffer = io.BytesIO(EVERY_BYTE)
    upload_like = SimpleNamespace(
        file=io.BytesIO(b"gif"), filename="a.gif", content_type="image/gif"
    )
    sent = remote.tag([upload, buffer, io.StringIO("naïve"), upload_like])
    back = remote.untag(protocol.decode(protocol.encode({"k": "host_call", "args": sent}))["args"])
    got_upload, got_buffer, got_text, got_like = back
    assert isinstance(got_upload, UploadFile)
    assert (got_upload.filename, got_upload.content_type) == ("cat.png", "image/png")
    assert got_upload.file.tell() == 3 and got_upload.file.read() == b"G" + EVERY_BYTE
    assert got_buffer.read() == EVERY_BYTE
    assert got_text.read() == "naïve"
    assert upload.file.tell() == 3  # the plugin's own file is left where it was
    assert isinstance(got_like, UploadFile)  # an object shaped like an upload becomes one
    assert (got_like.filename, got_like.content_type, got_like.file.read()) == (
        "a.gif",
        "image/gif",
        b"gif",
    )


async def test_frames_cut_anywhere_by_the_socket_arrive_whole_and_in_order():
    reader, writer, theirs = await pair()
    messages = [
        {"k": "chunks", "id": 1, "items": ["tok "] * 3},
        {"k": "result", "id": 2, "value": "x" * (3 * protocol.READ_SIZE)},  # longer than a read
        {"k": "result", "id": 3, "value": EVERY_BYTE},  # tagged bytes
        {"k": "end", "id": 4},
    ]
    data = b"".join(protocol.encode(m) for m in messages)
    frames = protocol.FrameReader(reader)
    got: list[dict] = []

    async def collect() -> None:
        while len(got) < len(messages):
            got.extend(await frames.frames())

    collecting = asyncio.create_task(collect())
    for cut in range(0, len(data), 7_001):  # pieces that end inside headers and bodies
        theirs.sendall(data[cut : cut + 7_001])
        await asyncio.sleep(0)
    await collecting
    assert got == messages
    theirs.close()
    assert await frames.frames() == []  # the peer closed: no more frames
    writer.close()


async def test_a_stream_cut_inside_a_frame_is_a_protocol_error_for_the_frame_reader_too():
    reader, writer, theirs = await pair()
    frame = protocol.encode({"k": "result", "id": 1, "value": "ok"})
    theirs.sendall(frame + frame[:-3])
    theirs.close()
    with pytest.raises(protocol.ProtocolError, match="inside a frame"):
        await protocol.FrameReader(reader).frames()
    writer.close()


def test_maps_with_keys_that_are_not_text_cross_with_text_keys():
    frame = protocol.encode({"k": "result", "id": 1, "value": {1: "one", None: [{2.5: "x"}]}})
    assert protocol.decode(frame)["value"] == {"1": "one", "null": [{"2.5": "x"}]}
