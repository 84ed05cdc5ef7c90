"""Answer a plugin's `__event_call__` questions from a script, over pipehouse's side channel.

    ./pipehouse                                   # in one terminal: serves examples/, prints a key
    PIPEHOUSE_KEY=... .venv/bin/python examples/clients/answer_event_calls.py ask_pipe Ada

It subscribes to the caller's events (`GET /api/v1/events`), waits for `{"type": "ready"}`,
sends a chat request to MODEL, answers every `confirmation` with true and every `input` with
NAME (`POST /api/v1/events/calls/{call_id}`), prints the events it sees, then the answer.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import httpx

BASE = os.environ.get("PIPEHOUSE_URL", "http://127.0.0.1:8080")
HEADERS = {"Authorization": f"Bearer {os.environ['PIPEHOUSE_KEY']}"}
CHAT = "answer-event-calls-demo"  # the chat whose events this script listens to


def listen(ready: threading.Event, name: str) -> None:
    with (
        httpx.Client(base_url=BASE, headers=HEADERS, timeout=None) as client,
        client.stream("GET", "/api/v1/events", params={"chat_id": CHAT}) as events,
    ):
        for line in events.iter_lines():
            if not line.startswith("data: "):
                continue  # a keep-alive comment
            envelope = json.loads(line[6:])
            if envelope["type"] == "ready":
                ready.set()
            elif envelope["type"] == "event":
                print("event:", json.dumps(envelope["data"]), file=sys.stderr)
            elif envelope["type"] == "call":
                asked = envelope["data"]
                answer = True if asked["type"] == "confirmation" else name
                print(f"asked {asked['type']}: {asked['data']} -> {answer!r}", file=sys.stderr)
                client.post(f"/api/v1/events/calls/{envelope['call_id']}", json=answer)


def main(model: str, name: str) -> None:
    ready = threading.Event()
    threading.Thread(target=listen, args=(ready, name), daemon=True).start()
    if not ready.wait(10):
        sys.exit("the event subscription did not start")
    reply = httpx.post(
        f"{BASE}/v1/chat/completions",
        headers=HEADERS,
        timeout=60,
        json={"model": model, "chat_id": CHAT, "messages": [{"role": "user", "content": "hi"}]},
    )
    reply.raise_for_status()
    print(reply.json()["choices"][0]["message"]["content"])


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) >= 3 else ("ask_pipe", "Ada")))
