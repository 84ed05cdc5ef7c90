"""Request ids on every response, and Prometheus metrics per plugin."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
def server_plugins():
    return ["cli_status_pipe", "cli_raises_pipe", "cli_shout_filter"]


def metrics(server) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics by (sample name, labels)."""
    reply = server.client().get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }


def sample(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_every_response_carries_a_request_id(server):
    client = server.client()
    anonymous = server.client(key=None)
    replies = [
        client.get("/v1/models"),
        client.post("/v1/chat/completions", json={"model": "cli_status_pipe", "messages": HELLO}),
        client.post("/v1/chat/completions", json={"model": "nope", "messages": HELLO}),
        client.post("/v1/chat/completions", content=b"{", headers={"Content-Type": "text/json"}),
        client.post("/v1/chat/completions", json={"model": "cli_raises_pipe", "messages": HELLO}),
        client.get("/no/such/route"),
        anonymous.get("/v1/models"),
        anonymous.get("/health"),
    ]
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO, "stream": True},
    ) as streamed:
        streamed.read()
        replies.append(streamed)
    assert [r.status_code for r in replies] == [200, 200, 404, 400, 502, 404, 401, 200, 200]
    ids = [r.headers.get("x-request-id") for r in replies]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


def test_a_request_id_the_client_sends_is_echoed(server):
    client = server.client()
    reply = client.post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO},
        headers={"X-Request-ID": "trace-abc-123"},
    )
    assert reply.headers["x-request-id"] == "trace-abc-123"
    failed = client.post(
        "/v1/chat/completions",
        json={"model": "cli_raises_pipe", "messages": HELLO},
        headers={"X-Request-ID": "trace-failed-1"},
    )
    assert failed.status_code == 502
    assert failed.headers["x-request-id"] == "trace-failed-1"


def test_metrics_count_plugin_calls_errors_and_latency_per_plugin(server):
    client = server.client()
    for _ in range(2):
        reply = client.post(
            "/v1/chat/completions", json={"model": "cli_status_pipe", "messages": HELLO}
        )
        assert reply.status_code == 200
    streamed = client.post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO, "stream": True},
    )
    assert streamed.status_code == 200
    failed = client.post(
        "/v1/chat/completions", json={"model": "cli_raises_pipe", "messages": HELLO}
    )
    assert failed.status_code == 502

    found = metrics(server)
    calls = "pipehouse_plugin_calls_total"
    assert sample(found, calls, plugin="cli_status_pipe", stage="pipe") == 3
    assert sample(found, calls, plugin="cli_raises_pipe", stage="pipe") == 1
    # the global filter ran its inlet for every request
    assert sample(found, calls, plugin="cli_shout_filter", stage="inlet") == 4
    errors = {
        labels: value
        for (name, labels), value in found.items()
        if name == "pipehouse_plugin_errors_total" and value
    }
    assert {dict(labels)["plugin"] for labels in errors} == {"cli_raises_pipe"}
    assert sum(errors.values()) == 1
    latency = "pipehouse_plugin_latency_seconds_count"
    assert sample(found, latency, plugin="cli_status_pipe", stage="pipe") == 3
    assert (
        sample(
            found, "pipehouse_plugin_latency_seconds_sum", plugin="cli_status_pipe", stage="pipe"
        )
        > 0
    )
    requests = "pipehouse_http_requests_total"
    route = "/v1/chat/completions"
    assert sample(found, requests, method="POST", route=route, status="200") == 3
    assert sample(found, requests, method="POST", route=route, status="502") == 1


def test_an_unexpected_error_is_a_500_with_the_request_id_and_is_counted(server):
    async def broken() -> None:
        raise RuntimeError("a bug in pipehouse itself")

    server.app.add_api_route("/test-only/broken", broken)  # a fault, injected for this test
    reply = server.client().get("/test-only/broken", headers={"X-Request-ID": "trace-500"})
    assert reply.status_code == 500
    assert reply.headers["x-request-id"] == "trace-500"
    assert reply.json() == {"detail": "Internal server error", "request_id": "trace-500"}
    assert "a bug in pipehouse" not in reply.text
    found = metrics(server)
    requests = "pipehouse_http_requests_total"
    assert sample(found, requests, method="GET", route="/test-only/broken", status="500") == 1


@pytest.mark.parametrize("server_plugins", [["cli_status_pipe", "filter_stream_raises"]])
def test_a_failing_stream_filter_is_counted_as_an_error(server):
    reply = server.client().post(
        "/v1/chat/completions",
        json={"model": "cli_status_pipe", "messages": HELLO, "stream": True},
    )
    assert '"plugin":"filter_stream_raises"' in reply.text
    found = metrics(server)
    errors = sum(
        value
        for (name, labels), value in found.items()
        if name == "pipehouse_plugin_errors_total"
        and dict(labels)["plugin"] == "filter_stream_raises"
    )
    assert errors == 1
