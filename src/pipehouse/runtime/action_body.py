"""What an action click's body must hold before the action sees it.

Open WebUI's UI sends `model`, `messages`, `chat_id`, `id` (the message under the button) and
`session_id` (0.12.4 `utils/actions.py` passes the body on unchecked). Actions read
`body["messages"][-1]["content"]` and the like, so a body with `"messages": "hi"` or `[1, 2]`
would fail inside the action and be blamed on it (502); here it is a 400 naming the key, before
any plugin runs. `messages` may be absent (an action need not read it), but when present it is a
list of message objects, as in a chat completion (`runtime/chat_body.py`).
"""

from __future__ import annotations

from typing import Any

from pipehouse.runtime.chat_body import BadChatBody
from pipehouse.runtime.errors import RequestError

_IDS = ("chat_id", "id", "session_id")  # read as strings to address the action's events


_STRING = {"type": "string"}
SCHEMA: dict[str, Any] = {  # the body as /openapi.json shows it
    "type": "object",
    "required": ["model"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {"type": "array", "items": {"type": "object"}},
        **{key: _STRING for key in _IDS},
    },
}


def check_action_body(body: Any) -> dict[str, Any]:
    """`body` itself when an action can be run with it; a 400 naming the first bad key."""
    if type(body) is not dict:
        raise RequestError("the request body must be a JSON object")
    model = body.get("model")
    if type(model) is not str or not model:
        raise BadChatBody("model", "a non-empty string", model)
    messages = body.get("messages")
    if messages is not None:
        if type(messages) is not list:
            raise BadChatBody("messages", "a list of message objects", messages)
        for index, message in enumerate(messages):
            if type(message) is not dict:
                raise BadChatBody(f"messages[{index}]", "an object", message)
    for key in _IDS:
        value = body.get(key)
        if value is not None and type(value) is not str:
            raise BadChatBody(key, "a string", value)
    return body
