"""`open_webui.utils.misc`: the message helpers plugins use, behaving as Open WebUI 0.12.4's.

Pure functions over OpenAI-style message lists. Where Open WebUI mutates the list (or a message)
in place and returns it, these do too: plugins rely on both.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pipehouse.compat.errors import missing_names

Message = dict[str, Any]

__getattr__ = missing_names(__name__)


def deep_update(target: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `changes` into `target` recursively (mappings merge, everything else replaces)."""
    for key, value in changes.items():
        if isinstance(value, Mapping):
            target[key] = deep_update(target.get(key, {}), value)
        else:
            target[key] = value
    return target


def get_message_list(messages_map: dict[str, Message] | None, message_id: str | None) -> list:
    """The chain of messages from the root down to `message_id`, following `parentId`."""
    if not messages_map:
        return []
    message = messages_map.get(message_id) if message_id is not None else None
    chain: list[Message] = []
    seen: set[str] = set()
    while message and message_id not in seen:
        seen.add(message_id)  # type: ignore[arg-type]
        chain.append(message)
        message_id = message.get("parentId")
        message = messages_map.get(message_id) if message_id else None
    chain.reverse()
    return chain


def get_output_text(output: Any) -> str:
    """The text of the `message` items of a Responses-style `output` list, one per line."""
    if not isinstance(output, list):
        return ""
    texts = []
    for item in output:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        parts = item.get("content") or []
        if not isinstance(parts, list):
            continue
        text = "".join(
            str(part["text"])
            for part in parts
            if isinstance(part, dict) and part.get("text") is not None
        )
        if text and not text.isspace():
            texts.append(text)
    return "\n".join(texts)


def get_content_from_message(message: Message) -> str | None:
    """A message's text: its string content, or the first text part of list content; failing
    both, the text of its `output` items."""
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                return part.get("text")
    elif content:
        return content
    output = get_output_text(message.get("output"))
    return output or (content if isinstance(content, str) else None)


def get_messages_content(messages: list[Message]) -> str:
    return "\n".join(
        f"{message['role'].upper()}: {get_content_from_message(message)}" for message in messages
    )


def _last_with_role(messages: list[Message], role: str) -> Message | None:
    for message in reversed(messages):
        if message["role"] == role:
            return message
    return None


def get_last_user_message_item(messages: list[Message]) -> Message | None:
    return _last_with_role(messages, "user")


def get_last_user_message(messages: list[Message]) -> str | None:
    message = get_last_user_message_item(messages)
    return None if message is None else get_content_from_message(message)


def set_last_user_message_content(content: str, messages: list[Message]) -> list[Message]:
    """Replace the text of the last user message (its first text part for list content)."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        if isinstance(message.get("content"), list):
            for part in message["content"]:
                if part.get("type") == "text":
                    part["text"] = content
                    break
        else:
            message["content"] = content
        break
    return messages


def get_last_assistant_message_item(messages: list[Message]) -> Message | None:
    return _last_with_role(messages, "assistant")


def get_last_assistant_message(messages: list[Message]) -> str | None:
    message = get_last_assistant_message_item(messages)
    return None if message is None else get_content_from_message(message)


def get_system_message(messages: list[Message]) -> Message | None:
    """The first system message."""
    return next((m for m in messages if m["role"] == "system"), None)


def remove_system_message(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m["role"] != "system"]


def pop_system_message(messages: list[Message]) -> tuple[Message | None, list[Message]]:
    """(the first system message, the messages without ANY system message)."""
    return get_system_message(messages), remove_system_message(messages)


def merge_system_messages(messages: list[Message]) -> list[Message]:
    """Every system message's text joined into one system message at the front."""
    texts, others = [], []
    for message in messages:
        if message.get("role") == "system":
            text = get_content_from_message(message)
            if text:
                texts.append(text)
        else:
            others.append(message)
    if not texts:
        return others
    return [{"role": "system", "content": "\n".join(texts)}, *others]


def update_message_content(message: Message, content: str, append: bool = True) -> Message:
    """Add `content` after (or before) the message's text, on its own line; for list content
    every text part gets it."""

    def joined(text: str) -> str:
        return f"{text}\n{content}" if append else f"{content}\n{text}"

    if isinstance(message["content"], list):
        for part in message["content"]:
            if part["type"] == "text":
                part["text"] = joined(part["text"])
    else:
        message["content"] = joined(message["content"])
    return message


def replace_system_message_content(content: str, messages: list[Message]) -> list[Message]:
    for message in messages:
        if message["role"] == "system":
            message["content"] = content
            break
    return messages


def add_or_update_system_message(
    content: str, messages: list[Message], append: bool = False
) -> list[Message]:
    """Put `content` before the text of a leading system message (after it with `append`),
    or insert a new system message at the front."""
    if messages and messages[0].get("role") == "system":
        messages[0] = update_message_content(messages[0], content, append)
    else:
        messages.insert(0, {"role": "system", "content": content})
    return messages


def add_or_update_user_message(
    content: str, messages: list[Message], append: bool = True
) -> list[Message]:
    """Add `content` to a trailing user message, or append a new user message."""
    if messages and messages[-1].get("role") == "user":
        messages[-1] = update_message_content(messages[-1], content, append)
    else:
        messages.append({"role": "user", "content": content})
    return messages


def prepend_to_first_user_message_content(content: str, messages: list[Message]) -> list[Message]:
    for message in messages:
        if message["role"] == "user":
            update_message_content(message, content, append=False)
            break
    return messages


def append_or_update_assistant_message(content: str, messages: list[Message]) -> list[Message]:
    if messages and messages[-1].get("role") == "assistant":
        messages[-1]["content"] = f"{messages[-1]['content']}\n{content}"
    else:
        messages.append({"role": "assistant", "content": content})
    return messages


def strip_empty_content_blocks(messages: list[Message]) -> list[Message]:
    """Drop empty text parts from list content (unless nothing would be left)."""
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        kept = [
            part
            for part in content
            if not (
                isinstance(part, dict)
                and part.get("type") == "text"
                and not part.get("text", "").strip()
            )
        ]
        if kept:
            message["content"] = kept
    return messages


def openai_chat_message_template(model: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "id": message_id or f"{model}-{uuid.uuid4()}",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": None}],
    }


def openai_chat_chunk_message_template(
    model: str,
    content: str | None = None,
    reasoning_content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A `chat.completion.chunk`; one with no content, reasoning or tool calls is the finish
    chunk (`finish_reason: "stop"`)."""
    chunk = openai_chat_message_template(model, message_id)
    chunk["object"] = "chat.completion.chunk"
    choice = chunk["choices"][0]
    delta: dict[str, Any] = {}
    if content:
        delta["content"] = content
    if reasoning_content:
        delta["reasoning_content"] = reasoning_content
    if tool_calls:
        delta["tool_calls"] = tool_calls
    choice["delta"] = delta
    if not delta:
        choice["finish_reason"] = "stop"
    if usage:
        chunk["usage"] = usage
    return chunk


def openai_chat_completion_message_template(
    model: str,
    message: str | None = None,
    reasoning_content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `chat.completion`; without `message` the choice has no `message` key at all."""
    completion = openai_chat_message_template(model)
    completion["object"] = "chat.completion"
    choice = completion["choices"][0]
    if message is not None:
        reply: dict[str, Any] = {"role": "assistant", "content": message}
        if reasoning_content:
            reply["reasoning_content"] = reasoning_content
        if tool_calls:
            reply["tool_calls"] = tool_calls
        choice["message"] = reply
    choice["finish_reason"] = "tool_calls" if tool_calls else "stop"
    if usage:
        completion["usage"] = usage
    return completion


def get_gravatar_url(email: str) -> str:
    digest = hashlib.sha256(str(email).strip().lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=mp"


def calculate_sha256(file_path: str, chunk_size: int) -> str:
    digest = hashlib.sha256()
    with open(file_path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def calculate_sha256_string(string: str) -> str:
    return hashlib.sha256(string.encode("utf-8")).hexdigest()


def validate_email_format(email: str) -> bool:
    return email.endswith("@localhost") or bool(re.match(r"[^@]+@[^@]+\.[^@]+", email))


def sanitize_filename(file_name: str) -> str:
    """Lowercase, without punctuation, whitespace runs as dashes."""
    cleaned = re.sub(r"[^\w\s]", "", file_name.lower())
    return re.sub(r"\s+", "-", cleaned)


_DURATION_UNITS = {
    "ms": "milliseconds",
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}


def parse_duration(duration: str) -> timedelta | None:
    """`"1h30m"` -> 1:30:00; `"-1"` and `"0"` mean no limit (None)."""
    if duration in ("-1", "0"):
        return None
    pairs = re.findall(r"(-?\d+(?:\.\d+)?)(ms|s|m|h|d|w)", duration)
    if not pairs:
        raise ValueError("Invalid duration string")
    total = timedelta()
    for number, unit in pairs:
        total += timedelta(**{_DURATION_UNITS[unit]: float(number)})
    return total
