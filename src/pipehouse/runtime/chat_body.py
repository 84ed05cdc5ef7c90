"""What a chat completion body must hold before any plugin sees it.

The keys pipehouse itself reads — OpenAI's and the ones Open WebUI's UI adds — must have the
type they are read as, or the request is a 400 naming the key (OpenAI's `error.param`), rather
than a plugin failing on `"stream": "yes"` or a `"role": 5` deep inside its code. `null` counts
as absent for every optional key. Keys not listed here pass through untouched: plugins read
extra keys of their own.

Cheap by design: it runs for every completion, and a usual body has three or four keys.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from pipehouse.runtime.errors import RequestError

_MISSING = object()
_JSON_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


class Rule(NamedTuple):
    kind: type
    expected: str
    items: type | None = None  # what every item of a list must be


STRING = Rule(str, "a string")
OBJECT = Rule(dict, "an object")
BOOLEAN = Rule(bool, "true or false")
IDS = Rule(list, "a list of ids", str)
FILES = Rule(list, "a list of file objects")

# The top-level keys pipehouse reads, by the type they are read as.
TOP_LEVEL: dict[str, Rule] = {
    "stream": BOOLEAN,
    "stream_options": OBJECT,
    "tools": Rule(list, "a list of tool objects"),
    "chat_id": STRING,
    "id": STRING,  # the answer's message id
    "session_id": STRING,
    "filter_ids": IDS,
    "tool_ids": IDS,
    "files": FILES,
    "metadata": OBJECT,
    "features": OBJECT,
    "variables": OBJECT,
    "params": OBJECT,
}
# The same inside `metadata`, where Open WebUI's UI puts them.
IN_METADATA: dict[str, Rule] = {
    "chat_id": STRING,
    "message_id": STRING,
    "session_id": STRING,
    "filter_ids": IDS,
    "tool_ids": IDS,
    "files": FILES,
    "features": OBJECT,
    "variables": OBJECT,
    "params": OBJECT,
}


class BadChatBody(RequestError):
    """A key of the body has the wrong type; `param` names it (`messages[2].role`)."""

    def __init__(self, param: str, expected: str, value: Any) -> None:
        self.param = param
        super().__init__(f"'{param}' must be {expected}, not {json_type(value)}")


def json_type(value: Any) -> str:
    if value is _MISSING:
        return "missing"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def check_chat_body(body: Any) -> dict[str, Any]:
    """`body` itself when it is a chat completion body pipehouse can serve; BadChatBody (400)
    naming the first key of the wrong type otherwise."""
    if type(body) is not dict:
        raise RequestError("the request body must be a JSON object")
    model = body.get("model", _MISSING)
    if type(model) is not str or not model:
        raise BadChatBody("model", "a non-empty string", model)
    messages = body.get("messages", _MISSING)
    if type(messages) is not list:
        raise BadChatBody("messages", "a list of message objects", messages)
    for index, message in enumerate(messages):
        # the usual message (an object with a string role and string content) in three tests
        if (
            type(message) is not dict
            or type(message.get("role")) is not str
            or type(message.get("content")) is not str
        ):
            _check_message(message, index)
    if len(body) > 2:
        _check_keys(body, TOP_LEVEL, "")
        metadata = body.get("metadata")
        if metadata:
            _check_keys(metadata, IN_METADATA, "metadata.")
    return body


def _check_message(message: Any, index: int) -> None:
    if type(message) is not dict:
        raise BadChatBody(f"messages[{index}]", "an object", message)
    role = message.get("role", _MISSING)
    if type(role) is not str:
        raise BadChatBody(f"messages[{index}].role", "a string", role)
    content = message.get("content")
    if content is None or type(content) is str:
        return
    if type(content) is not list:
        expected = "a string, a list of parts or null"
        raise BadChatBody(f"messages[{index}].content", expected, content)
    for part_index, part in enumerate(content):
        if type(part) is not dict:
            raise BadChatBody(f"messages[{index}].content[{part_index}]", "an object", part)


def _check_keys(given: dict[str, Any], rules: dict[str, Rule], prefix: str) -> None:
    for key, value in given.items():
        rule = rules.get(key)
        if rule is None or value is None:
            continue
        if not isinstance(value, rule.kind):
            raise BadChatBody(prefix + key, rule.expected, value)
        if rule.items is not None:
            items = cast(list[Any], value)  # rule.kind is list when rule.items is set
            for index, item in enumerate(items):
                if not isinstance(item, rule.items):
                    raise BadChatBody(f"{prefix}{key}[{index}]", _JSON_NAMES[rule.items], item)
