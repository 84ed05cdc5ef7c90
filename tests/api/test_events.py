"""The event side channel over a real server: a client subscribes, sees its requests' events,
answers event calls; calls time out or are answered at once when nobody listens; one user never
sees another's events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import parse_sse
from tests.support.polling import eventually

pytestmark = pytest.mark.parametrize("server_plugins", [["events_asks_pipe"]])


class Subscriber:
    """A client on `GET /api/v1/events`, in a thread, answering calls with `answer(envelope)`."""

    def __init__(self, server, key: str, answer: Callable[[dict], Any] | None, **params) -> None:
        self.frames: list[dict] = []
        self.ready = threading.Event()
        self._client = server.client(key)
        self._answerer = server.client(key)
        self._answer = answer
        self._params = params
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.closing = False

    def _run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            if not self.closing:  # the test closing the connection under the reader is fine
                raise

    def _read(self) -> None:
        with self._client.stream("GET", "/api/v1/events", params=self._params) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data: "):
                    continue
                envelope = json.loads(line[6:])
                self.frames.append(envelope)
                if envelope["type"] == "ready":
                    self.ready.set()
                elif envelope["type"] == "call" and self._answer is not None:
                    value = self._answer(envelope)
                    url = f"/api/v1/events/calls/{envelope['call_id']}"
                    self._answerer.post(url, json=value).raise_for_status()

    def events(self) -> list[dict]:
        return [f["data"] for f in self.frames if f["type"] == "event"]

    def calls(self) -> list[dict]:
        return [f for f in self.frames if f["type"] == "call"]

    def statuses_through(self, last: str) -> list[str]:
        """The status descriptions received, once the one saying `last` has arrived."""

        def received() -> list[str]:
            return [e["data"]["description"] for e in self.events() if e["type"] == "status"]

        eventually(lambda: last in received(), what=f"the status {last!r}")
        return received()


@contextmanager
def subscribed(server, key: str, answer=None, **params) -> Iterator[Subscriber]:
    subscriber = Subscriber(server, key, answer, **params)
    subscriber._thread.start()
    assert subscriber.ready.wait(10), "the subscription never became ready"
    try:
        yield subscriber
    finally:
        subscriber.closing = True
        subscriber._client.close()


def ask(server, key: str, **extra) -> dict:
    body = {"model": "events_asks_pipe", "messages": [{"role": "user", "content": "hi"}], **extra}
    reply = server.client(key).post("/v1/chat/completions", json=body)
    assert reply.status_code == 200, reply.text
    return json.loads(reply.json()["choices"][0]["message"]["content"])


def answers(envelope: dict) -> Any:
    return True if envelope["data"]["type"] == "confirmation" else "Ada"


def test_a_subscriber_answers_a_confirmation_and_an_input(server):
    with subscribed(server, server.admin_key, answers, chat_id="chat-1") as client:
        told = ask(server, server.admin_key, chat_id="chat-1", id="msg-1")
        assert told == {"confirmed": True, "name": "Ada"}
        assert [c["data"]["type"] for c in client.calls()] == ["confirmation", "input"]
        assert {c["chat_id"] for c in client.calls()} == {"chat-1"}
        statuses = client.statuses_through("done")  # the last status may still be on its way
        assert statuses == ["asking", "done"]
        done = [f["call_id"] for f in client.frames if f["type"] == "call:done"]
        assert done == [c["call_id"] for c in client.calls()]


# The server's own limit for an event call is 300 s: a test that waited for it would hit its
# timeout below, so ending in time shows the call's own limit (or no wait at all) applied.
@pytest.mark.timeout(60)
def test_a_call_nobody_answers_times_out_with_a_documented_result(server):
    with subscribed(server, server.admin_key):  # listening, never answering
        told = ask(server, server.admin_key, ask_timeout=0.5)
        assert told["confirmed"]["error"].startswith("Event call timed out")


@pytest.mark.timeout(60)
def test_with_nobody_listening_a_call_is_answered_at_once(server):
    told = ask(server, server.admin_key)
    assert told == {"confirmed": {"error": "No client is listening for event calls."}}


def test_a_subscriber_for_another_chat_is_not_a_listener(server):
    with subscribed(server, server.admin_key, answers, chat_id="other-chat") as client:
        told = ask(server, server.admin_key, chat_id="chat-2")
        assert told["confirmed"]["error"] == "No client is listening for event calls."
        assert client.calls() == [] and client.events() == []


def test_one_users_events_never_reach_another_user(server):
    alice, bob = server.user_key("alice@example.com"), server.user_key("bob@example.com")
    with (
        subscribed(server, alice, answers) as alices,
        subscribed(server, bob) as bobs,
    ):
        assert ask(server, alice)["confirmed"] is True
        alices.statuses_through("done")
        assert alices.events() and alices.calls()
        assert bobs.frames == [{"type": "ready", "chat_id": None}]


def test_nobody_can_answer_another_users_call(server):
    alice, bob = server.user_key("alice@example.com"), server.user_key("bob@example.com")
    bob_client = server.client(bob)
    stolen: list[int] = []

    def answer_as_bob_first(envelope: dict) -> Any:
        reply = bob_client.post(f"/api/v1/events/calls/{envelope['call_id']}", json=False)
        stolen.append(reply.status_code)
        return answers(envelope)

    with subscribed(server, alice, answer_as_bob_first):
        assert ask(server, alice) == {"confirmed": True, "name": "Ada"}
    assert stolen == [404, 404]


def test_streamed_requests_send_their_events_to_subscribers_too(server):
    with subscribed(server, server.admin_key, answers) as client:
        body = {
            "model": "events_asks_pipe",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        }
        reply = server.client().post("/v1/chat/completions", json=body)
        text = "".join(
            p["choices"][0]["delta"].get("content") or ""
            for p in parse_sse(reply.content)
            if isinstance(p, dict) and p.get("choices")
        )
        assert json.loads(text) == {"confirmed": True, "name": "Ada"}
        assert client.statuses_through("done") == ["asking", "done"]
        assert [e["type"] for e in client.events()] == ["status", "status"]


def test_an_unknown_call_id_is_404(server):
    reply = server.client().post("/api/v1/events/calls/nope", json=True)
    assert reply.status_code == 404


def test_subscribing_needs_a_key(server):
    assert server.client(None).get("/api/v1/events").status_code == 401
