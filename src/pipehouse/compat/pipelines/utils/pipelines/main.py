"""`utils.pipelines.main`: the Pipelines server's message helpers, chunk template and tool specs,
as Pipelines files use them (behaviour of open-webui/pipelines' `utils/pipelines/main.py`,
quirks included; the two places pipehouse differs are listed in docs/compatibility.md).

These differ from `open_webui.utils.misc`'s helpers of the same names: a Pipelines file gets
the Pipelines server's versions, a Function gets Open WebUI's.
"""

from __future__ import annotations

import inspect
import time
import uuid
from typing import Any, get_type_hints

from pipehouse.compat.errors import missing_names

__all__ = [
    "add_or_update_system_message",
    "doc_to_dict",
    "get_last_assistant_message",
    "get_last_user_message",
    "get_system_message",
    "get_tools_specs",
    "pop_system_message",
    "remove_system_message",
    "stream_message_template",
]
__getattr__ = missing_names(__name__)

Message = dict[str, Any]


def stream_message_template(model: str, message: str) -> dict[str, Any]:
    """One `chat.completion.chunk` carrying `message`; a new id each time, as there."""
    return {
        "id": f"{model}-{uuid.uuid4()}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "delta": {"content": message}, "logprobs": None, "finish_reason": None}
        ],
    }


def _last_text(messages: list[Message], role: str) -> Any:
    for message in reversed(messages):
        if message["role"] != role:
            continue
        content = message["content"]
        if isinstance(content, list):
            for item in content:
                if item["type"] == "text":
                    return item["text"]
        return content  # list content without a text part comes back as it is
    return None


def get_last_user_message(messages: list[Message]) -> str | None:
    return _last_text(messages, "user")


def get_last_assistant_message(messages: list[Message]) -> str | None:
    return _last_text(messages, "assistant")


def get_system_message(messages: list[Message]) -> Message | None:
    """The first system message."""
    return next((message for message in messages if message["role"] == "system"), None)


def remove_system_message(messages: list[Message]) -> list[Message]:
    """A new list without any system message."""
    return [message for message in messages if message["role"] != "system"]


def pop_system_message(messages: list[Message]) -> tuple[Message | None, list[Message]]:
    return get_system_message(messages), remove_system_message(messages)


def add_or_update_system_message(content: str, messages: list[Message]) -> list[Message]:
    """Insert a system message at the front, or extend a leading one. Extending gives
    `old + content + "\\n" + old`: the Pipelines server repeats the old text, and Pipelines
    files were written against that."""
    if messages and messages[0].get("role") == "system":
        old = messages[0]["content"]
        messages[0]["content"] = f"{old}{content}\n{old}"
    else:
        messages.insert(0, {"role": "system", "content": content})
    return messages


def doc_to_dict(docstring: str) -> dict[str, Any]:
    """`{"description", "params"}` from a docstring laid out as the Pipelines examples are: the
    description on the line after the opening quotes, then `:param name: text` lines. A one-line
    docstring is its own description (the Pipelines server raises IndexError there)."""
    lines = docstring.split("\n")
    description = (lines[1] if len(lines) > 1 else lines[0]).strip()
    params = {}
    for line in lines:
        if ":param" in line:
            name, _, text = line.replace(":param", "").strip().partition(":")
            params[name.strip()] = text.strip()
    return {"description": description, "params": params}


def _json_type(annotation: Any) -> str:
    return str(getattr(annotation, "__name__", annotation)).lower()


def get_tools_specs(tools: Any) -> list[dict[str, Any]]:
    """A function spec for every callable attribute of `tools` whose name does not start with
    `__`: types from the annotations (`str`, `int` ..., a `Literal`'s values as `enum`),
    descriptions from the docstring, every parameter without a default required."""
    specs = []
    for name in dir(tools):
        function = getattr(tools, name)
        if name.startswith("__") or not callable(function):
            continue
        doc = doc_to_dict(function.__doc__ or name)
        properties = {}
        for param, annotation in get_type_hints(function).items():
            if param == "return":
                continue
            enum = {"enum": annotation.__args__} if hasattr(annotation, "__args__") else {}
            properties[param] = {
                "type": _json_type(annotation),
                **enum,
                "description": doc["params"].get(param, param),
            }
        required = [
            param
            for param, spec in inspect.signature(function).parameters.items()
            if spec.default is spec.empty
        ]
        specs.append(
            {
                "name": name,
                "description": doc.get("description", name),
                "parameters": {"type": "object", "properties": properties, "required": required},
            }
        )
    return specs
