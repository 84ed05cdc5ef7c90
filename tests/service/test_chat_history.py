"""The history tree inside a chat document (`service/chat_history.py`), without a server."""

from __future__ import annotations

from pipehouse.service import chat_history as h

ADA = {"id": "ada-id", "name": "Ada"}


def answer(answer_id: str | None, content: str = "answer") -> dict:
    return {"id": answer_id, "role": "assistant", "content": content, "model": "m", "done": True}


def roles_and_contents(chat: dict) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in chat["messages"]]


def test_record_turn_on_an_empty_chat_links_both_ways():
    chat: dict = {}
    current = h.record_turn(chat, [{"role": "user", "content": "hi"}], answer("a1"), ADA)
    messages = chat["history"]["messages"]
    assert current == chat["history"]["currentId"] == "a1"
    question = messages[messages["a1"]["parentId"]]
    assert question["parentId"] is None and question["childrenIds"] == ["a1"]
    assert question["user"] == ADA and question["user_id"] == "ada-id"
    assert question["models"] == ["m"]
    assert roles_and_contents(chat) == [("user", "hi"), ("assistant", "answer")]


def test_follow_prefers_the_latest_matching_branch():
    chat: dict = {}
    h.record_turn(chat, [{"role": "user", "content": "hi"}], answer("a1", "x"), ADA)
    h.record_turn(chat, [{"role": "user", "content": "hi"}], answer("a2", "x"), ADA)
    messages = chat["history"]["messages"]
    sent = [
        {"role": "user", "content": " hi "},  # trimmed before comparing
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": "next"},
    ]
    assert h.follow(messages, sent) == ("a2", 2)


def test_a_given_message_id_is_kept_unless_taken():
    chat: dict = {}
    h.record_turn(chat, [{"id": "u1", "role": "user", "content": "a"}], answer("a1"), ADA)
    h.record_turn(chat, [{"id": "u1", "role": "user", "content": "b"}], answer("a2"), ADA)
    messages = chat["history"]["messages"]
    assert messages["u1"]["content"] == "a"
    assert messages[messages["a2"]["parentId"]]["content"] == "b"


def test_an_answer_id_taken_by_a_question_gets_a_new_id():
    chat: dict = {}
    h.record_turn(chat, [{"id": "x", "role": "user", "content": "q"}], answer("a1"), ADA)
    current = h.record_turn(chat, [{"role": "user", "content": "q"}], answer("x"), ADA)
    assert current not in ("x", "a1")
    assert chat["history"]["messages"]["x"]["role"] == "user"


def test_a_placeholder_elsewhere_moves_under_the_new_question():
    chat: dict = {}
    h.record_turn(chat, [{"role": "user", "content": "q1"}], answer("a1"), ADA)
    h.upsert_message(chat, "late", {"role": "assistant", "content": "", "sources": ["s"]})
    sent = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "q2"},
    ]
    h.record_turn(chat, sent, answer("late", "final"), ADA)
    messages = chat["history"]["messages"]
    late = messages["late"]
    assert (late["content"], late["sources"]) == ("final", ["s"])
    assert messages[late["parentId"]]["content"] == "q2"
    assert roles_and_contents(chat)[-2:] == [("user", "q2"), ("assistant", "final")]


def test_a_legacy_messages_list_becomes_one_branch():
    chat = {
        "messages": [
            {"role": "user", "content": "q"},
            {"id": "a", "role": "assistant", "content": "r"},
        ]
    }
    history = h.ensure_history(chat)
    assert history["currentId"] == "a"
    assert [m["content"] for m in h.branch(history["messages"], "a")] == ["q", "r"]


def test_upsert_merges_or_adds_and_keeps_the_list_in_step():
    chat: dict = {}
    h.record_turn(chat, [{"role": "user", "content": "q"}], answer("a1"), ADA)
    h.upsert_message(chat, "a1", {"content": "changed"})
    assert chat["messages"][-1]["content"] == "changed"
    h.upsert_message(chat, "n1", {"parentId": "a1", "content": "more"})
    assert chat["history"]["currentId"] == "n1"
    assert chat["history"]["messages"]["a1"]["childrenIds"] == ["n1"]
    assert chat["messages"][-1]["role"] == "assistant"


def test_a_broken_or_cyclic_chain_ends_the_walk():
    messages = {
        "a": {"id": "a", "parentId": "b"},
        "b": {"id": "b", "parentId": "a"},
        "c": {"id": "c", "parentId": "gone"},
    }
    assert [m["id"] for m in h.branch(messages, "a")] == ["b", "a"]
    assert [m["id"] for m in h.branch(messages, "c")] == ["c"]
    assert h.branch(messages, None) == []


def test_system_prompts_are_not_history():
    sent = [{"role": "system", "content": "s"}, {"role": "developer"}, {"role": "user"}, "junk"]
    assert h.conversation(sent) == [{"role": "user"}]
