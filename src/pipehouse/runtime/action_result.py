"""What an action's return value becomes: the HTTP answer to the click, and any embeds.

Open WebUI answers the click with the raw return value, except when it asks for an embedded
page (an inline `HTMLResponse`, or a `(data, headers)` tuple whose headers say inline HTML or
give a `Location`): the page is sent as an `embeds` event and the answer becomes a short status
object (Open WebUI 0.12.4 utils/actions.py, utils/middleware.py). The executor applies these rules
where the plugin's objects
live, so only plain data crosses its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import HTMLResponse, Response, StreamingResponse

from pipehouse.runtime.embeds import embed_notice


@dataclass(slots=True)
class ActionResult:
    """An action's answer as plain data.

    `media_type` is set when the action returned a response object of its own (a non-inline
    `HTMLResponse`, a `PlainTextResponse`...): `value` is then its body text, sent as-is with
    that media type and `status_code`, as Open WebUI's FastAPI route sends such an object."""

    value: Any = None
    embeds: list[str] = field(default_factory=list)
    media_type: str | None = None
    status_code: int = 200


def _header(headers: Any, name: str) -> str:
    try:
        items = dict(headers).items()
    except (TypeError, ValueError):
        return ""
    return next((str(v) for k, v in items if str(k).lower() == name), "")


def _from_headers(name: str, data: Any, headers: Any) -> ActionResult | None:
    """A `(data, headers)` tuple that asks for an embed: inline HTML, or a `Location` page."""
    if "inline" not in _header(headers, "content-disposition"):
        return None
    context = None
    if isinstance(data, tuple | list) and len(data) == 2:
        data, context = data
    if "text/html" in _header(headers, "content-type"):
        embed = data
    else:
        embed = _header(headers, "location")
        if not embed:
            return None
    return ActionResult(embed_notice(name, 200, context), embeds=[embed])


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    return value


def action_result(name: str, value: Any) -> ActionResult:
    """Open WebUI's handling of an action's return value; `name` is the function id."""
    context = None
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], HTMLResponse):
        value, context = value
    if isinstance(value, Response) and not isinstance(value, StreamingResponse):
        body = bytes(value.body).decode("utf-8", errors="replace")
        if isinstance(value, HTMLResponse) and "inline" in value.headers.get(
            "content-disposition", ""
        ):
            return ActionResult(embed_notice(name, value.status_code, context), embeds=[body])
        media_type = value.media_type or value.headers.get("content-type") or "text/plain"
        return ActionResult(body, media_type=media_type, status_code=value.status_code)
    if isinstance(value, tuple) and len(value) == 2:
        embedded = _from_headers(name, *value)
        if embedded is not None:
            return embedded
    return ActionResult(_plain(value))
