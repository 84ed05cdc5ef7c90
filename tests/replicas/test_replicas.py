"""Two replicas behave as one server: what is changed on one is served by the other, events and
event calls cross between them, and Redis or a replica going away mid-stream breaks nothing
that is stored."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import PLUGINS
from tests.replicas.conftest import Replica, running_pair
from tests.support.polling import eventually

PLUGIN = "replica_greeter"
SOURCE = (PLUGINS / f"{PLUGIN}.py").read_text()


def create(replica: Replica, content: str = SOURCE) -> None:
    form = {"id": PLUGIN, "name": "Replica Greeter", "content": content, "meta": {}}
    client = replica.client()
    client.post("/api/v1/functions/create", json=form).raise_for_status()
    client.post(f"/api/v1/functions/id/{PLUGIN}/toggle").raise_for_status()


def answer(replica: Replica, text: str) -> str | None:
    """The model's answer, or None while the replica does not serve it."""
    body = {"model": PLUGIN, "messages": [{"role": "user", "content": text}]}
    response = replica.client().post("/v1/chat/completions", json=body)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()["choices"][0]["message"]["content"]


def serves(replica: Replica, text: str, expected: str | None) -> Callable[[], bool]:
    return lambda: answer(replica, text) == expected


class Subscriber:
    """A client on one replica's `GET /api/v1/events`, answering calls through that replica."""

    def __init__(self, replica: Replica, reply: Callable[[dict], Any] | None = None) -> None:
        self.frames: list[dict] = []
        self.ready = threading.Event()
        self._replica = replica
        self._reply = reply
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.ready.wait(30), "the subscription did not start"

    def _read(self) -> None:
        client, answers = self._replica.client(), self._replica.client()
        try:
            with client.stream("GET", "/api/v1/events") as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    envelope = json.loads(line[6:])
                    self.frames.append(envelope)
                    if envelope["type"] == "ready":
                        self.ready.set()
                    elif envelope["type"] == "call" and self._reply is not None:
                        url = f"/api/v1/events/calls/{envelope['call_id']}"
                        answers.post(url, json=self._reply(envelope)).raise_for_status()
        except httpx.HTTPError:
            pass  # the test is over and closed the connection

    def statuses(self) -> list[str]:
        return [
            f["data"]["data"]["description"]
            for f in self.frames
            if f["type"] == "event" and f["data"].get("type") == "status"
        ]


def test_replicas_started_together_on_a_fresh_database_both_serve(pair):
    a, b = pair
    for replica in pair:
        assert replica.ready()
        assert replica.client().get("/v1/models").status_code == 200
    create(a)
    assert eventually(serves(b, "world", "Hello, world"), what="B serving A's function")


def test_a_function_created_on_a_is_answered_on_b(pair):
    a, b = pair
    assert answer(b, "x") is None
    create(a)
    eventually(serves(b, "there", "Hello, there"), what="B serving the new function")
    assert answer(a, "there") == "Hello, there"


def test_code_valves_toggle_and_delete_on_a_are_served_by_b(pair):
    a, b = pair
    create(a)
    eventually(serves(b, "x", "Hello, x"), what="B serving the function")
    admin = a.client()

    new_code = SOURCE.replace('default="Hello"', 'default="Howdy"')
    form = {"id": PLUGIN, "name": "Replica Greeter", "content": new_code, "meta": {}}
    admin.post(f"/api/v1/functions/id/{PLUGIN}/update", json=form).raise_for_status()
    eventually(serves(b, "x", "Howdy, x"), what="B running the updated code")

    url = f"/api/v1/functions/id/{PLUGIN}/valves/update"
    admin.post(url, json={"GREETING": "Bonjour"}).raise_for_status()
    eventually(serves(b, "x", "Bonjour, x"), what="B using the new valves")

    admin.post(f"/api/v1/functions/id/{PLUGIN}/toggle").raise_for_status()  # off
    eventually(serves(b, "x", None), what="B no longer serving the deactivated function")
    admin.post(f"/api/v1/functions/id/{PLUGIN}/toggle").raise_for_status()  # on again
    eventually(serves(b, "x", "Bonjour, x"), what="B serving it again")

    admin.delete(f"/api/v1/functions/id/{PLUGIN}/delete").raise_for_status()
    eventually(serves(b, "x", None), what="B no longer serving the deleted function")
    assert b.client().get(f"/api/v1/functions/id/{PLUGIN}").status_code == 404


def test_user_valves_set_on_b_are_used_on_a(pair):
    a, b = pair
    create(a)
    eventually(serves(b, "x", "Hello, x"), what="B serving the function")
    assert answer(a, "x") == "Hello, x"  # A has read this user's settings already
    url = f"/api/v1/functions/id/{PLUGIN}/valves/user/update"
    b.client().post(url, json={"SIGNATURE": " -- Ada"}).raise_for_status()
    eventually(serves(a, "x", "Hello, x -- Ada"), what="A using the user valves set on B")


def test_an_event_from_a_plugin_on_a_reaches_a_subscriber_on_b(pair):
    a, b = pair
    create(a)
    eventually(serves(a, "x", "Hello, x"), what="A serving the function")
    subscriber = Subscriber(b)
    assert answer(a, "from A") == "Hello, from A"
    eventually(lambda: "greeting from A" in subscriber.statuses(), what="the event on B")


def test_an_event_call_emitted_on_a_is_answered_through_b(pair):
    a, b = pair
    create(a)
    eventually(serves(a, "x", "Hello, x"), what="A serving the function")
    subscriber = Subscriber(b, reply=lambda envelope: "Ada")
    assert answer(a, "ask") == "Hello, Ada"
    assert [call["data"]["type"] for call in subscriber_calls(subscriber)] == ["input"]


def subscriber_calls(subscriber: Subscriber) -> list[dict]:
    return [f for f in subscriber.frames if f["type"] == "call"]


def stream(replica: Replica, text: str) -> httpx.Response:
    body = {"model": PLUGIN, "messages": [{"role": "user", "content": text}], "stream": True}
    request = replica.client().build_request("POST", "/v1/chat/completions", json=body)
    return replica.client().send(request, stream=True)


def chunks(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if line.startswith("data: {"):
            delta = json.loads(line[6:])["choices"][0]["delta"]
            text += delta.get("content") or ""
    return text


def test_redis_restarted_during_a_stream(tmp_path, database_url, prefix, own_redis):
    with running_pair(tmp_path, database_url, own_redis.url, prefix) as (a, b):
        create(a)
        eventually(serves(b, "x", "Hello, x"), what="B serving the function")
        subscriber = Subscriber(b)

        lines = stream(a, "slow 40").iter_lines()
        received = [next(lines)]
        own_redis.kill()  # mid-stream
        received += list(lines)
        assert [line for line in received if line][-1] == "data: [DONE]"
        assert chunks(received) == "".join(f"Hello {i} " for i in range(40))
        eventually(lambda: "Redis is unreachable" in a.log(), what="the outage logged on A")
        assert b.ready() is False  # B says it is not ready while its Redis is away

        own_redis.start()
        eventually(b.ready, what="B ready again")
        attempt = iter(range(1000))

        def event_crosses_again() -> bool:
            text = f"after {next(attempt)}"
            answer(a, text)
            return f"greeting {text}" in subscriber.statuses()

        eventually(event_crosses_again, what="events crossing from A to B again")
        assert a.process.poll() is None and b.process.poll() is None


def test_a_replica_killed_during_a_stream(pair):
    a, b = pair
    create(a)
    eventually(serves(b, "x", "Hello, x"), what="B serving the function")
    response = stream(a, "slow 400")
    lines = response.iter_lines()
    received = [next(lines)]
    a.kill()
    with pytest.raises(httpx.HTTPError):  # the client is told: the stream broke off
        received += list(lines)
    assert "data: [DONE]" not in received
    assert answer(b, "still here") == "Hello, still here"  # nothing stored was lost
    listed = b.client().get("/api/v1/functions/").json()
    assert [row["id"] for row in listed] == [PLUGIN]
