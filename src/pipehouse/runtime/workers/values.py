"""Return values that are not plain data, across the wire and back as what they were.

A tool may return a tuple (`(HTMLResponse, context)`) or a Starlette response, and the server
reads their type (runtime/tools.py `tool_result_text`); JSON has neither, so these two cross
tagged and are rebuilt on the other side. Everything else crosses as itself (`protocol`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

TAG = "__pipehouse_value__"
_RESPONSES: dict[str, type[Response]] = {
    cls.__name__: cls for cls in (Response, HTMLResponse, PlainTextResponse, JSONResponse)
}


def encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [encode(item) for item in value]}
    if isinstance(value, Response) and isinstance(getattr(value, "body", None), bytes):
        name = next((n for n, c in _RESPONSES.items() if type(value) is c), "Response")
        return {
            TAG: "response",
            "class": name,
            "body": bytes(value.body),  # crosses as bytes (protocol.py): an image stays one
            "status": value.status_code,
            "headers": dict(value.headers),
            "media_type": value.media_type,
        }
    return value


def decode(value: Any) -> Any:
    if not isinstance(value, dict) or TAG not in value:
        return value
    if value[TAG] == "tuple":
        return tuple(decode(item) for item in value["items"])
    cls = _RESPONSES.get(value.get("class", ""), Response)
    headers = {
        k: v for k, v in (value.get("headers") or {}).items() if k.lower() != "content-length"
    }
    if cls is JSONResponse:
        return JSONResponse(json.loads(value["body"]), value["status"], headers)
    if cls is Response:
        return Response(value["body"], value["status"], headers, value.get("media_type"))
    return cls(value["body"], value["status"], headers)
