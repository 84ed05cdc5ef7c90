"""The server outlives plugins that raise `SystemExit` or `KeyboardInterrupt` (runtime/
containment.py): at import, in a call, in the middle of a stream. Each is that plugin's error,
named in the answer or in its status, and every other plugin keeps serving."""

from __future__ import annotations

import pytest

from tests.conftest import content_of, parse_sse, plugin_path

HELLO = [{"role": "user", "content": "weather in Paris?"}]


@pytest.fixture
def server_plugins():
    return ["exits_pipe", "exits_at_import", "returns_str"]


def ask(client, model: str, **body):
    return client.post("/v1/chat/completions", json={"model": model, "messages": HELLO, **body})


def streamed(client, model: str) -> list:
    with client.stream(
        "POST", "/v1/chat/completions", json={"model": model, "messages": HELLO, "stream": True}
    ) as reply:
        assert reply.status_code == 200
        return parse_sse(reply.read())


def still_serving(client) -> None:
    reply = ask(client, "returns_str")
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"]


def test_a_file_that_exits_at_import_leaves_the_others_serving(server):
    client = server.client()
    still_serving(client)
    models = {m["id"] for m in client.get("/v1/models").json()["data"]}
    assert "exits_pipe" in models and "exits_at_import" not in models
    overview = {p["id"]: p for p in client.get("/api/v1/plugins").json()}
    error = overview["exits_at_import"]["error"]
    assert overview["exits_at_import"]["state"] == "error"
    assert error["type"] == "SystemExit"
    assert error["message"] == "PIPEHOUSE_TESTS_NEVER_SET_THIS_KEY is not set"
    assert error["path"].endswith("exits_at_import.py") and error["line"]


@pytest.mark.parametrize("raised", ["SystemExit", "KeyboardInterrupt"])
@pytest.mark.parametrize("kind", ["functions", "tools"])
def test_code_that_exits_at_import_is_refused_with_a_400_naming_the_line(server, kind, raised):
    source = plugin_path("exits_at_import").read_text()
    if raised == "KeyboardInterrupt":
        source = source.replace('sys.exit("', 'raise KeyboardInterrupt("')
    if kind == "tools":
        source = source.replace("class Pipe:", "class Tools:")
    client = server.client()
    form = {"id": "exits_on_create", "name": "Exits", "content": source, "meta": {}}
    reply = client.post(f"/api/v1/{kind}/create", json=form)
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["detail"]
    expected = ("exits_on_create", "load", raised)
    assert (error["plugin_id"], error["stage"], error["type"]) == expected
    lines = source.splitlines()
    assert lines[error["line"] - 1].strip().startswith(("sys.exit(", "raise KeyboardInterrupt("))
    assert client.get(f"/api/v1/{kind}/id/exits_on_create").status_code == 404  # nothing stored
    still_serving(client)


@pytest.mark.parametrize("raised", ["SystemExit", "KeyboardInterrupt"])
def test_a_pipe_that_exits_is_a_502_naming_it_and_the_server_goes_on(server, raised):
    client = server.client()
    saved = client.post("/api/v1/functions/id/exits_pipe/valves/update", json={"EXIT_WITH": raised})
    assert saved.status_code == 200, saved.text
    reply = ask(client, "exits_pipe")
    assert reply.status_code == 502
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json()["error"]
    assert (error["plugin"], error["stage"], error["code"]) == ("exits_pipe", "pipe", raised)
    still_serving(client)


@pytest.mark.parametrize("when", ["sync_stream", "async_stream"])
def test_a_stream_that_exits_halfway_ends_with_an_error_and_the_server_goes_on(server, when):
    client = server.client()
    saved = client.post("/api/v1/functions/id/exits_pipe/valves/update", json={"WHEN": when})
    assert saved.status_code == 200, saved.text
    payloads = streamed(client, "exits_pipe")
    assert content_of(payloads) == "Looking up the weather... "
    error = payloads[-2]["error"]
    assert (error["plugin"], error["code"]) == ("exits_pipe", "SystemExit")
    assert payloads[-1] == "[DONE]"
    still_serving(client)
    assert content_of(streamed(client, "returns_str"))
