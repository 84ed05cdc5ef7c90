"""The hot routes (`api/fastlane.py`) and their FastAPI twins, which serve the same paths when
the server runs under a `root_path` (behind a proxy that strips a prefix, or mounted in another
app): both answer alike, with the same request ids, metrics, auth and errors."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import start_server
from tests.conftest import content_of, parse_sse

ROOT = "/pipehouse"
HELLO = [{"role": "user", "content": "hi"}]
PLUGINS = ["cli_status_pipe", "cli_shout_filter"]


@pytest.fixture
def proxied(tmp_path, database_url):
    """A server run as `uvicorn --root-path /pipehouse`, behind a proxy that takes the prefix
    off: clients' paths reach the app as /pipehouse/... with `root_path` /pipehouse."""
    yield from start_server(tmp_path, database_url, PLUGINS, {"root_path": ROOT})


@pytest.fixture
def direct(tmp_path_factory):
    """The same plugins on a server without a root path (its own SQLite database)."""
    yield from start_server(tmp_path_factory.mktemp("direct"), None, PLUGINS)


def requests_counted(server) -> dict[tuple[str, str, str], float]:
    reply = server.client().get("/metrics")
    assert reply.status_code == 200
    return {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
        if s.name == "pipehouse_http_requests_total"
    }


def test_models_and_chat_are_served_under_a_root_path(proxied):
    client = proxied.client()
    models = client.get("/v1/models", headers={"X-Request-ID": "trace-models"})
    assert models.status_code == 200
    assert models.headers["x-request-id"] == "trace-models"
    assert [m["id"] for m in models.json()["data"]] == ["cli_status_pipe"]

    body = {"model": "cli_status_pipe", "messages": HELLO}
    reply = client.post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-request-id"]
    # the global filter ran around the pipe, as on the fast lane
    assert reply.json()["choices"][0]["message"]["content"] == "echo: HI [user]"

    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
        assert s.status_code == 200
        assert s.headers["content-type"].startswith("text/event-stream")
        payloads = parse_sse(s.read())
    assert payloads[-1] == "[DONE]"
    assert content_of(payloads) == "echo:!HI![user]"  # and its stream hook, on every chunk

    counted = requests_counted(proxied)
    assert counted[("GET", "/v1/models", "200")] == 1
    assert counted[("POST", "/v1/chat/completions", "200")] == 2


def test_under_a_root_path_keys_and_errors_are_the_fast_lanes(proxied):
    anonymous = proxied.client(key=None)
    refused = anonymous.post(
        "/v1/chat/completions", json={"model": "cli_status_pipe", "messages": HELLO}
    )
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.headers["x-request-id"]

    client = proxied.client()
    unknown = client.post("/v1/chat/completions", json={"model": "nope", "messages": HELLO})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "not_found_error"
    not_json = client.post(
        "/v1/chat/completions", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.json()["detail"]


def test_the_fast_lane_and_its_twin_give_the_same_answer(proxied, direct):
    def answers(client) -> tuple:
        body = {"model": "cli_status_pipe", "messages": HELLO}
        whole = client.post("/v1/chat/completions", json=body)
        with client.stream(
            "POST", "/v1/chat/completions", json={**body, "stream": True}
        ) as streamed:
            payloads = parse_sse(streamed.read())
        steps = [
            (p["object"], p["model"], p["choices"][0]["delta"], p["choices"][0]["finish_reason"])
            for p in payloads
            if isinstance(p, dict) and p.get("choices")
        ]
        message = whole.json()["choices"][0]
        return whole.status_code, message["message"], message["finish_reason"], steps

    fast = answers(direct.client())  # no root_path: the fast lane serves it
    assert fast[0] == 200
    assert answers(proxied.client()) == fast
