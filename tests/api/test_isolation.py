"""Modes over a real server (api/isolation.py, docs/isolation.md): plugins run in worker
processes by default, and what a plugin asks of the server (events, event calls, the
`open_webui` user table, another model, `__request__`) works from there, streamed and not; an
admin moves one plugin inline and back, and the choice is kept in its row."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import PLUGINS, content_of, parse_sse
from tests.support.polling import eventually

PLUGIN = "isolation_reports_itself"
HELLO = [{"role": "user", "content": "hello"}]
NOBODY = {"error": "No client is listening for event calls."}


@pytest.fixture
def server_plugins():
    return [
        PLUGIN,
        "returns_str",
        "isolation_endless_stream",
        "isolation_asks_for_inline",
        "isolation_reads_request",
    ]


@pytest.fixture
def server_settings():
    return {"inline_events": True}  # events in-band, so the stream shows them


def ask(server, *, stream: bool) -> tuple[dict, list]:
    body = {"model": PLUGIN, "messages": HELLO, "stream": stream}
    reply = server.client(server.admin_key).post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    if not stream:
        return json.loads(reply.json()["choices"][0]["message"]["content"]), []
    payloads = parse_sse(reply.content)
    events = [p["event"] for p in payloads if isinstance(p, dict) and "event" in p]
    return json.loads(content_of(payloads)), events


@pytest.mark.parametrize("stream", [False, True], ids=["completion", "stream"])
def test_an_isolated_plugin_reaches_the_server_from_its_worker(server, stream):
    report, events = ask(server, stream=stream)
    assert report["pid"] != os.getpid()  # the server runs in this process: not here
    assert report["told"] == NOBODY  # the event call was answered by the server's channel
    assert report["email"] == "admin@localhost"
    assert report["reply"] == "plain answer"
    assert report["streamed_frames"] >= 3  # role, text, finish... each its own frame
    assert report["path"] == "/v1/chat/completions"
    assert report["method"] == "POST"
    assert report["has_authorization"] is True
    if stream:
        described = [e["data"]["description"] for e in events if e["type"] == "status"]
        assert described == ["working", "done"]


@pytest.mark.parametrize("mode", ["isolated", "inline"])
def test_the_request_shows_the_client_and_its_state_in_either_mode(server, mode):
    """`__request__.client` and `__request__.state` as plugins read them (an audit or rate-limit
    plugin's caller address, the request id): the stand-in in a worker shows what the live
    request shows inline."""
    admin = server.client(server.admin_key, headers={"User-Agent": "audit-test/1.0"})
    if mode == "inline":
        moved = admin.post("/api/v1/isolation/isolation_reads_request", json={"mode": "inline"})
        assert moved.status_code == 200, moved.text
    body = {"model": "isolation_reads_request", "messages": HELLO}
    reply = admin.post(
        "/v1/chat/completions?trace=on", json=body, headers={"X-Request-ID": "audit-42"}
    )
    assert reply.status_code == 200, reply.text
    # the address and port this client connects from, as the server sees them
    local_host, local_port = reply.extensions["network_stream"].get_extra_info("client_addr")
    report = json.loads(reply.json()["choices"][0]["message"]["content"])
    assert (report["pid"] == os.getpid()) is (mode == "inline")
    assert report["ip"] == report["client_host"] == local_host == "127.0.0.1"
    assert report["client_port"] == local_port
    assert report["request_id"] == "audit-42"  # the request's state: the id it is logged under
    assert report["direct"] is False  # an attribute the state lacks: the plugin's default
    assert report["user_agent"] == "audit-test/1.0"
    assert report["query"] == {"trace": "on"}


def test_a_frontmatter_line_asking_for_inline_is_not_obeyed(server):
    """A file's `isolation: inline` (or `mode: inline`) line is its author's wish, not the
    operator's choice: the plugin runs in a worker, and the admin route says isolated."""
    admin = server.client(server.admin_key)
    source = (PLUGINS / "isolation_asks_for_inline.py").read_text()
    assert "\nisolation: inline\n" in source
    form = {
        "id": "asks_mode_inline",
        "name": "Quick Echo",
        "content": source.replace("\nisolation: inline\n", "\nmode: inline\n"),
        "meta": {},
    }
    admin.post("/api/v1/functions/create", json=form).raise_for_status()
    admin.post("/api/v1/functions/id/asks_mode_inline/toggle").raise_for_status()
    for plugin_id in ("isolation_asks_for_inline", "asks_mode_inline"):
        body = {"model": plugin_id, "messages": HELLO}
        reply = admin.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200, reply.text
        report = json.loads(reply.json()["choices"][0]["message"]["content"])
        assert report["text"] == "echo: hello"
        assert report["pid"] != os.getpid()  # in a worker, not the server's process
        shown = admin.get(f"/api/v1/isolation/{plugin_id}").json()
        assert shown == {"id": plugin_id, "mode": "isolated", "set": None, "default": "isolated"}
    assert admin.get("/api/v1/isolation/").json()["plugins"] == {}


def test_an_admin_moves_a_plugin_inline_and_back(server):
    admin = server.client(server.admin_key)
    assert admin.get(f"/api/v1/isolation/{PLUGIN}").json()["mode"] == "isolated"

    moved = admin.post(f"/api/v1/isolation/{PLUGIN}", json={"mode": "inline"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["mode"] == "inline"
    assert ask(server, stream=False)[0]["pid"] == os.getpid()
    assert admin.get("/api/v1/isolation/").json()["plugins"] == {PLUGIN: "inline"}
    row = admin.get(f"/api/v1/functions/id/{PLUGIN}").json()
    assert row["meta"]["isolation"] == "inline"

    back = admin.post(f"/api/v1/isolation/{PLUGIN}", json={"mode": None})
    assert back.json()["mode"] == "isolated"
    assert ask(server, stream=False)[0]["pid"] != os.getpid()


def test_a_code_update_keeps_the_mode_an_admin_set(server):
    """The mode is the admin's, not the form's: saving new code (whose form carries no mode, or
    another) leaves the plugin where the admin put it, now and after a restart."""
    admin = server.client(server.admin_key)
    source = (PLUGINS / f"{PLUGIN}.py").read_text()
    form = {"id": "reports_copy", "name": "Report", "content": source, "meta": {}}
    admin.post("/api/v1/functions/create", json=form).raise_for_status()
    admin.post("/api/v1/functions/id/reports_copy/toggle").raise_for_status()
    admin.post("/api/v1/isolation/reports_copy", json={"mode": "inline"}).raise_for_status()

    form = {**form, "content": source + "\n# edited\n", "meta": {"isolation": "isolated"}}
    admin.post("/api/v1/functions/id/reports_copy/update", json=form).raise_for_status()
    row = admin.get("/api/v1/functions/id/reports_copy").json()
    assert row["meta"]["isolation"] == "inline"  # what a restart reads back
    body = {"model": "reports_copy", "messages": HELLO}
    answer = admin.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]
    assert json.loads(answer["content"])["pid"] == os.getpid()


def test_only_an_admin_sets_a_mode(server):
    key = server.user_key()
    refused = server.client(key).post(f"/api/v1/isolation/{PLUGIN}", json={"mode": "inline"})
    assert refused.status_code in (401, 403)


def test_an_unknown_plugin_or_mode_is_refused(server):
    admin = server.client(server.admin_key)
    assert admin.post("/api/v1/isolation/no_such", json={"mode": "inline"}).status_code == 404
    bad = admin.post(f"/api/v1/isolation/{PLUGIN}", json={"mode": "sandboxed"})
    assert bad.status_code == 422


def test_a_client_that_goes_away_stops_the_pipe_in_its_worker(server, tmp_path):
    marker = tmp_path / "closed"
    admin = server.client(server.admin_key)
    saved = admin.post(
        "/api/v1/functions/id/isolation_endless_stream/valves/update",
        json={"CLOSED_MARKER": str(marker)},
    )
    assert saved.status_code == 200, saved.text
    body = {"model": "isolation_endless_stream", "messages": HELLO, "stream": True}
    client = server.client()
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        received = b""
        for part in response.iter_bytes():
            received += part
            if b"tick3" in received:
                break
    client.close()  # the connection goes, mid-answer: the worker's generator is closed
    assert eventually(marker.exists, what="the generator's finally in the worker")
