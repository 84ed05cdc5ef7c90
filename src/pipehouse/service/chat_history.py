"""A chat's history as Open WebUI keeps it inside the chat document: `history.messages` maps
message ids to messages linked by `parentId`/`childrenIds` (a tree: every edit or regeneration
is a new branch), `history.currentId` is the leaf on screen, and `messages` lists the branch from
the root to that leaf. These functions keep the three consistent; they edit the dicts given.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

NOT_HISTORY = frozenset(("system", "developer"))  # kept in the chat's settings, not its history
TREE_KEYS = ("id", "parentId", "childrenIds")


def new_message_id() -> str:
    return str(uuid.uuid4())


def ensure_history(chat: dict[str, Any]) -> dict[str, Any]:
    """The chat's `history`, made if missing: from a legacy `messages` list (one branch, ids
    added where missing), or empty."""
    history = chat.get("history")
    if isinstance(history, dict) and isinstance(history.get("messages"), dict):
        history.setdefault("currentId", None)
        return history
    history = {"messages": {}, "currentId": None}
    parent = None
    for message in chat.get("messages") or []:
        if not isinstance(message, dict):
            continue
        given = message.get("id")
        message_id = given if isinstance(given, str) and given else new_message_id()
        attach(history["messages"], {**message, "id": message_id}, parent)
        parent = message_id
    history["currentId"] = parent
    chat["history"] = history
    return history


def attach(messages: dict[str, Any], message: dict[str, Any], parent_id: str | None) -> None:
    """Add `message` (which has its `id`) as the last child of `parent_id` (None: a root)."""
    message_id = message["id"]
    messages[message_id] = {**message, "parentId": parent_id, "childrenIds": []}
    _link(messages, parent_id, message_id)


def move(messages: dict[str, Any], message_id: str, parent_id: str | None) -> None:
    """Hang an existing message (and what follows it) under another parent."""
    message = messages[message_id]
    old = message.get("parentId")
    if old == parent_id:
        return
    if isinstance(messages.get(old), dict):
        siblings = messages[old].get("childrenIds") or []
        messages[old]["childrenIds"] = [c for c in siblings if c != message_id]
    message["parentId"] = parent_id
    _link(messages, parent_id, message_id)


def _link(messages: dict[str, Any], parent_id: str | None, child_id: str) -> None:
    parent = messages.get(parent_id) if parent_id is not None else None
    if isinstance(parent, dict):
        children = parent.get("childrenIds")
        if not isinstance(children, list):
            children = parent["childrenIds"] = []
        if child_id not in children:
            children.append(child_id)


def branch(messages: dict[str, Any], leaf_id: str | None) -> list[dict[str, Any]]:
    """The messages from the root down to `leaf_id`, in order (a broken link ends the walk)."""
    chain: list[dict[str, Any]] = []
    seen: set[str] = set()
    current = leaf_id
    while isinstance(current, str) and current not in seen:
        message = messages.get(current)
        if not isinstance(message, dict):
            break
        seen.add(current)
        chain.append(message)
        current = message.get("parentId")
    chain.reverse()
    return chain


def set_current(chat: dict[str, Any], leaf_id: str | None) -> None:
    """Show `leaf_id`: `currentId` and the `messages` list follow it."""
    history = ensure_history(chat)
    history["currentId"] = leaf_id
    chat["messages"] = [dict(m) for m in branch(history["messages"], leaf_id)]


def conversation(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """The messages of a request that belong in a chat's history (no system prompts)."""
    return [m for m in messages if isinstance(m, dict) and m.get("role") not in NOT_HISTORY]


def _same(stored: dict[str, Any], sent: dict[str, Any]) -> bool:
    if stored.get("role") != sent.get("role"):
        return False
    a, b = stored.get("content"), sent.get("content")
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()  # clients trim what they send back
    return a == b


def follow(messages: dict[str, Any], sent: list[dict[str, Any]]) -> tuple[str | None, int]:
    """How far the history already holds the conversation `sent`: walks down from the roots,
    each step into the latest child that matches the next message (role and content). Returns
    the last matching message id (None: nothing matched) and how many messages matched."""
    roots = [i for i, m in messages.items() if isinstance(m, dict) and m.get("parentId") is None]
    candidates: list[Any] = roots
    matched_id: str | None = None
    count = 0
    for message in sent:
        found = next(
            (
                child
                for child in reversed(candidates)
                if isinstance(messages.get(child), dict) and _same(messages[child], message)
            ),
            None,
        )
        if found is None:
            break
        matched_id, count = found, count + 1
        candidates = messages[found].get("childrenIds") or []
    return matched_id, count


def record_turn(
    chat: dict[str, Any],
    sent: list[dict[str, Any]],
    answer: dict[str, Any],
    author: dict[str, Any],
) -> str:
    """Add one finished exchange: the messages of `sent` the history does not hold yet, under the
    part it does hold (a new branch when the conversation left the stored one), then `answer`
    after them. `answer["id"]` names an existing assistant message (a placeholder made before
    the request, or one a plugin wrote to) to complete in place. Returns the answer's id, which
    becomes the current message."""
    history = ensure_history(chat)
    messages = history["messages"]
    now = int(time.time())
    parent, matched = follow(messages, sent)
    for message in sent[matched:]:
        given = message.get("id")
        message_id = given if isinstance(given, str) and given not in messages else None
        new = {k: v for k, v in message.items() if k not in TREE_KEYS}
        new.update(id=message_id or new_message_id(), user_id=author["id"])
        new.setdefault("timestamp", now)
        if new.get("role") == "user":
            new["user"] = {"id": author["id"], "name": author.get("name", "")}
            new.setdefault("models", [answer.get("model")])
        attach(messages, new, parent)
        parent = new["id"]
    answer_id = answer.get("id")
    existing = messages.get(answer_id) if isinstance(answer_id, str) else None
    if isinstance(existing, dict) and existing.get("role") == "assistant":
        assert isinstance(answer_id, str)  # `existing` was found under it
        messages[answer_id] = {**existing, **answer, "id": answer_id}
        move(messages, answer_id, parent)
    else:
        if existing is not None or not isinstance(answer_id, str) or not answer_id:
            answer_id = new_message_id()
        answer = {"timestamp": now, **answer, "id": answer_id, "user_id": author["id"]}
        attach(messages, answer, parent)
    set_current(chat, answer_id)
    return answer_id


def upsert_message(chat: dict[str, Any], message_id: str, message: dict[str, Any]) -> None:
    """Merge `message` into the stored one, or add it (under its `parentId`, as the current
    message) when there is none: what Open WebUI's `upsert_message_to_chat_by_id_and_message_id`
    does for plugins."""
    history = ensure_history(chat)
    messages = history["messages"]
    existing = messages.get(message_id)
    if isinstance(existing, dict):
        messages[message_id] = {**existing, **message, "id": message_id}
    else:
        parent = message.get("parentId")
        new = {"role": "assistant", "timestamp": int(time.time()), **message, "id": message_id}
        attach(messages, new, parent if parent in messages else None)
        history["currentId"] = message_id
    set_current(chat, history.get("currentId"))
