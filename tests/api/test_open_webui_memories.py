"""`open_webui.models.memories` and `open_webui.routers.memories` on a real server (SQLite and
PostgreSQL): memories a plugin keeps for a user live in pipehouse's `memory` table."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from pipehouse.store.models import StoredMemory

COMPLETIONS = "/v1/chat/completions"


@pytest.fixture
def server_plugins():
    return ["compat_memories", "compat_memories_thread"]


def ask(client, model: str, prompt: str = "hello") -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    reply = client.post(COMPLETIONS, json=body)
    assert reply.status_code == 200, reply.text
    return json.loads(reply.json()["choices"][0]["message"]["content"])


def stored(server) -> list[tuple[str, str]]:
    async def rows():
        async with server.app.state.db.session() as session:
            found = await session.execute(select(StoredMemory).order_by(StoredMemory.content))
            return [(row.user_id, row.content) for row in found.scalars()]

    return server.call(rows())


def test_memories_are_added_queried_edited_and_deleted_per_user(server):
    client = server.client(server.user_key("ada@example.com"))
    seen = ask(client, "compat_memories")
    assert seen["is_model"] is True
    assert seen["city"] == ["user", "home/city"]
    assert seen["cat"] == ["Ada's cat is called Tom", {"created_by": "manual"}]
    # query_memory ranks by shared words: the tea memory first, at most k=2 results
    assert seen["found"][0] == "Ada likes green tea"
    assert len(seen["found"]) == 2
    assert seen["scores"] == sorted(seen["scores"], reverse=True)
    assert seen["edited"] == ["Ada likes jasmine tea", {"edited": True}]
    assert seen["not_theirs"] is None
    assert seen["removed"] is True and seen["kept"] is False
    assert sorted(seen["mine"]) == ["Ada likes jasmine tea", "Ada's cat is called Tom"]
    assert seen["by_id"] == "Ada's cat is called Tom"
    ada = server.call(server.app.state.accounts.user_by_email("ada@example.com"))
    assert stored(server) == [
        (ada.id, "Ada likes jasmine tea"),
        (ada.id, "Ada's cat is called Tom"),
    ]


def test_memories_from_a_worker_thread_are_the_users_own(server):
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    assert ask(ada, "compat_memories_thread", "likes tea") == {"mine": ["likes tea"], "everyone": 1}
    assert ask(bob, "compat_memories_thread", "likes coffee") == {
        "mine": ["likes coffee"],
        "everyone": 2,
    }
