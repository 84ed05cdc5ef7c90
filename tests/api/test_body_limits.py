"""Request bodies: the key is checked before a body is read, and no body passes the limit.

The proofs that a body was not read use a raw socket: the request announces a large body (by
`Content-Length`, or as chunks) and sends none of it, or only part. A server that read the body
before answering would wait for those bytes forever (the socket's timeout then fails the test);
an answer at all shows it did not.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import ADMIN_KEY, Server, start_server

LIMIT = 64 * 1024
HELLO = [{"role": "user", "content": "hello"}]

# One route of each kind that reads a body: the fast lane, a FastAPI route with a body model,
# a Pipelines-server route.
BODY_ROUTES = [
    "/v1/chat/completions",
    "/api/v1/chats/new",
    "/kind_pipeline_filter/filter/inlet",
]


@pytest.fixture
def server(tmp_path, database_url) -> Iterator[Server]:
    yield from start_server(
        tmp_path, database_url, ["cli_status_pipe", "kind_pipeline_filter"], max_body=LIMIT
    )


def send_unfinished(
    server: Server, path: str, *, key: str | None, length: int | None, sent: bytes = b""
) -> tuple[int, dict]:
    """POST `path` announcing a body of `length` bytes (None: chunked), send only `sent`
    (chunked: as one chunk, never the last one), then read the answer without sending more."""
    url = urlsplit(server.base_url)
    headers = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json"]
    if key:
        headers.append(f"Authorization: Bearer {key}")
    if length is None:
        headers.append("Transfer-Encoding: chunked")
        payload = b"%x\r\n%s\r\n" % (len(sent), sent) if sent else b""
    else:
        headers.append(f"Content-Length: {length}")
        payload = sent
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall("\r\n".join(headers).encode() + b"\r\n\r\n" + payload)
        reply = http.client.HTTPResponse(sock)
        reply.begin()
        return reply.status, json.loads(reply.read())


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("key", [None, "not-a-key"], ids=["no key", "wrong key"])
def test_without_a_valid_key_a_large_body_is_refused_unread(server, path, key):
    status, body = send_unfinished(server, path, key=key, length=100 * 1024 * 1024)
    assert status == 401
    assert body["detail"] in ("Not authenticated", "Invalid API key")
    status, _ = send_unfinished(server, path, key=key, length=None)  # chunked: no byte sent
    assert status == 401


def test_without_a_key_an_upload_is_refused_unread(server):
    status, _ = send_unfinished(server, "/api/v1/files/", key=None, length=100 * 1024 * 1024)
    assert status == 401


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_body_declared_over_the_limit_is_a_413_before_it_is_read(server, path):
    status, body = send_unfinished(server, path, key=ADMIN_KEY, length=LIMIT + 1)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert str(LIMIT) in body["detail"]


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_chunked_body_is_a_413_as_soon_as_it_passes_the_limit(server, path):
    # more than the limit, and the body never ends: the answer comes from the bytes so far
    status, body = send_unfinished(server, path, key=ADMIN_KEY, length=None, sent=b" " * LIMIT * 2)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"


def test_a_chat_just_under_the_limit_is_answered(server):
    text = "x" * (LIMIT - 200)
    body = {"model": "cli_status_pipe", "messages": [{"role": "user", "content": text}]}
    assert len(json.dumps(body)) < LIMIT
    reply = server.client().post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    assert text in reply.json()["choices"][0]["message"]["content"]
    # the same sent in chunks (no Content-Length)
    chunks = iter([json.dumps(body).encode()[:1000], json.dumps(body).encode()[1000:]])
    reply = server.client().post(
        "/v1/chat/completions", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 200, reply.text


def test_a_chat_over_the_limit_is_a_413_for_an_sdk_client(server):
    body = {"model": "cli_status_pipe", "messages": [{"role": "user", "content": "x" * LIMIT}]}
    reply = server.client().post("/v1/chat/completions", json=body)
    assert reply.status_code == 413
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert "PIPEHOUSE_MAX_BODY" in reply.json()["error"]["message"]


def test_uploads_keep_their_own_limit(server):
    # larger than PIPEHOUSE_MAX_BODY, within PIPEHOUSE_MAX_UPLOAD_MB (25 MB by default)
    data = b"a line of text\n" * (LIMIT // 8)
    reply = server.client().post("/api/v1/files/", files={"file": ("notes.txt", data)})
    assert reply.status_code == 200, reply.text
    assert reply.json()["meta"]["size"] == len(data)
