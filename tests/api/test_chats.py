"""Chats (`/api/v1/chats`) against a real server: Open WebUI 0.12.4's shapes, each user's chats
their own (404 for anyone else's, admins may read and delete any), and completions naming a
chat appending to it in Open WebUI's history shape, streaming or not, after outlet filters."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import content_of, parse_sse

API = "/api/v1/chats"
NOT_FOUND = "We could not find what you're looking for :/"
CHAT_RESPONSE = {
    "id",
    "user_id",
    "title",
    "chat",
    "updated_at",
    "created_at",
    "share_id",
    "archived",
    "pinned",
    "meta",
    "folder_id",
    "current_message_id",
}
MODEL = "returns_sync_generator"  # answers "Hello, world"
STORED_ANSWER = "edited: Hello, world"  # what the global outlet filter makes of it


@pytest.fixture
def server_plugins():
    return [MODEL, "filter_outlet_edits", "args_all_injected"]


def created(client, chat: dict | None = None) -> dict:
    reply = client.post(f"{API}/new", json={"chat": chat if chat is not None else {}})
    assert reply.status_code == 200, reply.text
    return reply.json()


def stored(client, chat_id: str) -> dict:
    reply = client.get(f"{API}/{chat_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()["chat"]


def ask(client, messages: list[dict], *, stream: bool = False, **extra) -> str:
    """The answer text as the client sees it."""
    body = {"model": MODEL, "messages": messages, "stream": stream, **extra}
    if not stream:
        reply = client.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200, reply.text
        return reply.json()["choices"][0]["message"]["content"]
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        return content_of(parse_sse(b"".join(response.iter_bytes())))


def branch(chat: dict) -> list[tuple[str, str]]:
    """(role, content) down the current branch, walked by parent links from `currentId`."""
    messages, current, walked = chat["history"]["messages"], chat["history"]["currentId"], []
    while current is not None:
        walked.append(messages[current])
        current = messages[current]["parentId"]
    return [(m["role"], m["content"]) for m in reversed(walked)]


def assert_consistent(chat: dict) -> None:
    """Links both ways, and the `messages` list is the current branch."""
    messages = chat["history"]["messages"]
    for message_id, message in messages.items():
        assert message["id"] == message_id
        if message["parentId"] is not None:
            assert message_id in messages[message["parentId"]]["childrenIds"]
        for child in message["childrenIds"]:
            assert messages[child]["parentId"] == message_id
    assert [(m["role"], m["content"]) for m in chat["messages"]] == branch(chat)
    if chat["messages"]:
        assert chat["messages"][-1]["id"] == chat["history"]["currentId"]


# -- the chat API -------------------------------------------------------------------------------
def test_create_list_get_delete(server):
    client = server.client()
    chat = created(client, {"title": "Plans", "tags": ["kept"]})
    assert set(chat) == CHAT_RESPONSE
    assert chat["title"] == "Plans" and chat["current_message_id"] is None
    assert chat["chat"] == {
        "title": "Plans",
        "tags": ["kept"],  # keys pipehouse does not know are kept
        "models": [],
        "history": {"messages": {}, "currentId": None},
        "messages": [],
    }
    untitled = created(client)
    assert untitled["title"] == "New Chat"

    listed = client.get(f"{API}/").json()
    assert {c["id"] for c in listed} == {chat["id"], untitled["id"]}
    assert all(set(c) == {"id", "title", "updated_at", "created_at"} for c in listed)
    assert client.get(f"{API}/list").json() == listed
    assert client.get(API).json() == listed
    assert client.get(f"{API}/", params={"page": 1}).json() == listed
    assert client.get(f"{API}/", params={"page": 2}).json() == []

    got = client.get(f"{API}/{chat['id']}").json()
    assert got == chat

    assert client.delete(f"{API}/{chat['id']}").json() is True
    gone = client.get(f"{API}/{chat['id']}")
    assert (gone.status_code, gone.json()["detail"]) == (404, NOT_FOUND)
    assert client.delete(f"{API}/{chat['id']}").status_code == 404
    assert [c["id"] for c in client.get(f"{API}/").json()] == [untitled["id"]]


def test_a_chat_in_open_webuis_ui_shape_is_kept_with_its_branch_and_authors(server):
    client = server.client(server.user_key("ada@example.com"))
    history = {
        "currentId": "a2",
        "messages": {
            "u1": {
                "id": "u1",
                "parentId": None,
                "childrenIds": ["a1", "a2"],
                "role": "user",
                "content": "hi",
            },
            "a1": {
                "id": "a1",
                "parentId": "u1",
                "childrenIds": [],
                "role": "assistant",
                "content": "first try",
            },
            "a2": {
                "id": "a2",
                "parentId": "u1",
                "childrenIds": [],
                "role": "assistant",
                "content": "second try",
            },
        },
    }
    chat = created(client, {"title": "UI", "models": ["m"], "history": history, "messages": []})
    me = client.get("/api/v1/auths/").json()
    assert chat["current_message_id"] == "a2"
    assert branch(chat["chat"]) == [("user", "hi"), ("assistant", "second try")]
    assert_consistent(chat["chat"])
    for message in chat["chat"]["history"]["messages"].values():
        assert message["user_id"] == me["id"]
    assert chat["chat"]["history"]["messages"]["u1"]["user"] == {"id": me["id"], "name": "ada"}


def test_a_legacy_messages_list_becomes_a_history(server):
    client = server.client()
    chat = created(
        client,
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    )["chat"]
    assert branch(chat) == [("user", "q"), ("assistant", "a")]
    assert_consistent(chat)


def test_bad_forms_are_refused(server):
    client = server.client()
    assert client.post(f"{API}/new", json={"chat": "not an object"}).status_code == 422
    assert client.post(f"{API}/new", json={}).status_code == 422


def test_each_user_sees_only_their_own_chats(server):
    admin = server.client()
    ada = server.client(server.user_key("ada@example.com"))
    bob = server.client(server.user_key("bob@example.com"))
    adas = created(ada, {"title": "Ada's"})

    assert bob.get(f"{API}/").json() == []
    for reply in (bob.get(f"{API}/{adas['id']}"), bob.delete(f"{API}/{adas['id']}")):
        assert (reply.status_code, reply.json()["detail"]) == (404, NOT_FOUND)
    refused = bob.post(
        "/v1/chat/completions",
        json={
            "model": MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "chat_id": adas["id"],
        },
    )
    assert refused.status_code == 404  # before any plugin ran: plugins read the chat's history
    assert stored(ada, adas["id"])["history"]["messages"] == {}

    # admins may read and delete anyone's chat (Open WebUI's default); their list is their own
    assert admin.get(f"{API}/").json() == []
    assert admin.get(f"{API}/{adas['id']}").json()["title"] == "Ada's"
    admins_turn = admin.post(
        "/v1/chat/completions",
        json={
            "model": MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "chat_id": adas["id"],
        },
    )
    assert admins_turn.status_code == 404  # but only the owner's completions append
    assert admin.delete(f"{API}/{adas['id']}").json() is True
    assert ada.get(f"{API}/").json() == []

    assert server.client(key=None).get(f"{API}/").status_code == 401


# -- completions appending to a chat ------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_completions_append_the_new_messages_and_the_answer(server, stream):
    client = server.client()
    chat_id = created(client, {"title": "T"})["id"]

    seen = ask(
        client,
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        stream=stream,
        chat_id=chat_id,
        id="answer-1",
    )
    # a stream's text is what the pipe said; the outlet's edit is what the chat keeps
    assert seen == ("Hello, world" if stream else STORED_ANSWER)
    chat = stored(client, chat_id)
    assert branch(chat) == [("user", "hi"), ("assistant", STORED_ANSWER)]  # no system prompt
    assert chat["history"]["currentId"] == "answer-1"
    answer = chat["history"]["messages"]["answer-1"]
    assert answer["done"] is True and answer["model"] == MODEL and answer["modelName"]
    question = chat["history"]["messages"][answer["parentId"]]
    assert question["models"] == [MODEL] and question["user"]["name"] == "Admin"
    assert chat["models"] == [MODEL]
    assert_consistent(chat)

    # the next turn sends the whole conversation back: only its new message is added
    ask(
        client,
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": STORED_ANSWER},
            {"role": "user", "content": "and then?"},
        ],
        stream=stream,
        metadata={"chat_id": chat_id},
    )
    chat = stored(client, chat_id)
    assert branch(chat) == [
        ("user", "hi"),
        ("assistant", STORED_ANSWER),
        ("user", "and then?"),
        ("assistant", STORED_ANSWER),
    ]
    assert len(chat["history"]["messages"]) == 4
    assert_consistent(chat)
    listed = client.get(f"{API}/").json()[0]
    assert listed["id"] == chat_id and listed["updated_at"] >= listed["created_at"]


def test_asking_again_adds_a_sibling_answer(server):
    client = server.client()
    chat_id = created(client)["id"]
    question = [{"role": "user", "content": "hi"}]
    ask(client, question, chat_id=chat_id, id="first")
    ask(client, question, chat_id=chat_id, id="second")
    chat = stored(client, chat_id)
    first, second = chat["history"]["messages"]["first"], chat["history"]["messages"]["second"]
    assert first["parentId"] == second["parentId"]
    assert chat["history"]["messages"][first["parentId"]]["childrenIds"] == ["first", "second"]
    assert chat["history"]["currentId"] == "second" and len(chat["messages"]) == 2
    assert_consistent(chat)


def test_an_edited_question_starts_a_new_branch(server):
    client = server.client()
    chat_id = created(client)["id"]
    ask(client, [{"role": "user", "content": "hi"}], chat_id=chat_id)
    ask(client, [{"role": "user", "content": "hello"}], chat_id=chat_id)
    chat = stored(client, chat_id)
    assert branch(chat) == [("user", "hello"), ("assistant", STORED_ANSWER)]
    roots = [m for m in chat["history"]["messages"].values() if m["parentId"] is None]
    assert sorted(m["content"] for m in roots) == ["hello", "hi"]
    assert_consistent(chat)


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_the_answer_fills_a_placeholder_made_before_the_request(server, stream):
    """Open WebUI's UI saves the question and an empty answer first, then asks with `id`."""
    client = server.client()
    history = {
        "currentId": "a1",
        "messages": {
            "u1": {
                "id": "u1",
                "parentId": None,
                "childrenIds": ["a1"],
                "role": "user",
                "content": "hi",
            },
            "a1": {
                "id": "a1",
                "parentId": "u1",
                "childrenIds": [],
                "role": "assistant",
                "content": "",
                "done": False,
                "statusHistory": [{"description": "kept"}],
            },
        },
    }
    chat_id = created(client, {"history": history})["id"]
    ask(client, [{"role": "user", "content": "hi"}], stream=stream, chat_id=chat_id, id="a1")
    chat = stored(client, chat_id)
    assert set(chat["history"]["messages"]) == {"u1", "a1"}
    filled = chat["history"]["messages"]["a1"]
    assert (filled["content"], filled["done"], filled["parentId"]) == (STORED_ANSWER, True, "u1")
    assert filled["statusHistory"] == [{"description": "kept"}]
    assert_consistent(chat)


def test_an_unknown_chat_id_is_only_a_correlation_key(server):
    client = server.client()
    report = client.post(
        "/v1/chat/completions",
        json={
            "model": "args_all_injected",
            "messages": [{"role": "user", "content": "hi"}],
            "chat_id": "not-a-stored-chat",
        },
    )
    assert report.status_code == 200, report.text
    seen = json.loads(report.json()["choices"][0]["message"]["content"].removeprefix("edited: "))
    assert seen["chat_id"] == seen["metadata"]["chat_id"] == "not-a-stored-chat"
    assert client.get(f"{API}/").json() == []  # nothing created
    assert client.get(f"{API}/not-a-stored-chat").status_code == 404


def test_plugins_get_the_stored_chats_id(server):
    client = server.client()
    chat_id = created(client)["id"]
    reply = client.post(
        "/v1/chat/completions",
        json={
            "model": "args_all_injected",
            "messages": [{"role": "user", "content": "hi"}],
            "metadata": {"chat_id": chat_id},
        },
    )
    seen = json.loads(reply.json()["choices"][0]["message"]["content"].removeprefix("edited: "))
    assert seen["chat_id"] == chat_id
    chat = stored(client, chat_id)
    assert [role for role, _ in branch(chat)] == ["user", "assistant"]
    assert chat["history"]["messages"][chat["history"]["currentId"]]["model"] == (
        "args_all_injected"
    )


def test_a_failed_turn_appends_nothing(server):
    client = server.client()
    chat_id = created(client)["id"]
    reply = client.post(
        "/v1/chat/completions",
        json={
            "model": "no_such_model",
            "messages": [{"role": "user", "content": "hi"}],
            "chat_id": chat_id,
        },
    )
    assert reply.status_code == 404
    assert stored(client, chat_id)["history"]["messages"] == {}


def test_concurrent_turns_on_one_chat_lose_nothing(server):
    client = server.client()
    chat_id = created(client)["id"]
    questions = [f"question {i}" for i in range(6)]
    with ThreadPoolExecutor(len(questions)) as pool:
        list(
            pool.map(
                lambda q: ask(server.client(), [{"role": "user", "content": q}], chat_id=chat_id),
                questions,
            )
        )
    chat = stored(client, chat_id)
    assert len(chat["history"]["messages"]) == 2 * len(questions)
    roots = [m["content"] for m in chat["history"]["messages"].values() if m["parentId"] is None]
    assert sorted(roots) == questions
    assert_consistent(chat)
