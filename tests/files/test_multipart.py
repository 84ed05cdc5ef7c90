"""Multipart forms read as they arrive (python-multipart underneath): the same events whatever the
chunk boundaries, the header parameters browsers and HTTP libraries send, header limits, and
clear errors for broken forms."""

from __future__ import annotations

import httpx
import pytest

from pipehouse.files.multipart import (
    PART_END,
    MultipartError,
    MultipartParser,
    Part,
    boundary_of,
    header_params,
)


def parse(body: bytes, boundary: bytes, chunk: int) -> list:
    """Feed `body` in pieces of `chunk` bytes; data events merged per part for comparison."""
    parser = MultipartParser(boundary)
    events: list = []
    for start in range(0, len(body), chunk):
        events += parser.feed(body[start : start + chunk])
    parser.close()
    merged: list = []
    for event in events:
        if isinstance(event, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += event
        else:
            merged.append(event)
    return merged


def httpx_form(**kw) -> tuple[bytes, bytes]:
    request = httpx.Request("POST", "http://x/", **kw)
    return request.read(), boundary_of(request.headers["content-type"])


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 100_000])
def test_same_events_for_any_chunking(chunk):
    payload = b"line one\r\n--not the boundary\r\n\r\n" + bytes(range(256)) * 3
    body, boundary = httpx_form(
        data={"metadata": '{"a": 1}'}, files={"file": ("a.bin", payload, "application/x-thing")}
    )
    assert parse(body, boundary, chunk) == [
        Part("metadata", None, None),
        b'{"a": 1}',
        PART_END,
        Part("file", "a.bin", "application/x-thing"),
        payload,
        PART_END,
    ]


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_empty_parts_and_an_ignored_epilogue(chunk):
    body = (
        b"--xyz\r\n"
        b'Content-Disposition: form-data; name="empty"\r\n\r\n'
        b'\r\n--xyz\r\nContent-Disposition: form-data; name="file"; filename=""\r\n\r\n'
        b"\r\n--xyz--\r\nignored epilogue"
    )
    assert parse(body, b"xyz", chunk) == [
        Part("empty", None, None),
        PART_END,
        Part("file", "", None),
        PART_END,
    ]


def test_the_closing_boundary_ends_the_form_and_what_follows_is_not_read():
    parser = MultipartParser(b"b")
    events = parser.feed(b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--')
    assert parser.done and events == [Part("a", None, None), b"1", PART_END]
    assert parser.feed(b"\r\n--b\r\nnot a part at all") == []
    parser.close()


def test_headers_of_many_lines_and_values_split_across_chunks():
    body = (
        b'--b\r\ncontent-disposition: form-data; name="f"; filename="n.txt"\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\nX-Other: 1\r\n\r\nhello\r\n--b--\r\n"
    )
    assert parse(body, b"b", 3) == [
        Part("f", "n.txt", "text/plain; charset=utf-8"),
        b"hello",
        PART_END,
    ]


def test_header_parameters():
    assert header_params('form-data; name="file"; filename="C:\\dir\\a.txt"') == (
        "form-data",
        {"name": "file", "filename": "C:\\dir\\a.txt"},
    )
    assert header_params('form-data; name=file; filename="say \\"hi\\".txt"')[1] == {
        "name": "file",
        "filename": 'say "hi".txt',
    }
    # RFC 5987 wins over the plain parameter, whichever comes first
    both = "form-data; filename*=UTF-8''r%C3%A9sum%C3%A9.txt; filename=\"resume.txt\""
    assert header_params(both)[1]["filename"] == "résumé.txt"
    assert header_params('Form-Data; NAME="x"') == ("form-data", {"name": "x"})


def test_boundary_of():
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    with pytest.raises(MultipartError, match="multipart/form-data"):
        boundary_of("application/json")
    with pytest.raises(MultipartError, match="boundary"):
        boundary_of("multipart/form-data")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nabc', "ended before"),
        (b"", "ended before"),
        (b"--b\r\nno colon here\r\n\r\nx\r\n--b--", "malformed multipart/form-data body"),
        (b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "Content-Disposition"),
        (b"--b garbage\r\n", "malformed multipart/form-data body"),
        # a preamble: refused, as FastAPI's forms (and so Open WebUI's uploads) refuse it
        (b"preamble\r\n--b\r\n", "malformed multipart/form-data body"),
        (b"nothing here at all", "malformed multipart/form-data body"),
        # a part's headers are bounded: one line and their number
        (b"--b\r\n" + b"X-Long: " + b"a" * 20_000, "Maximum header size exceeded"),
        (b"--b\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(40)), "header count"),
    ],
)
def test_broken_forms(body, message):
    with pytest.raises(MultipartError, match=message):
        parse(body, b"b", 4096)
