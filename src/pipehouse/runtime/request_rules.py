"""What Open WebUI makes of a chat request before a pipe sees it: the metadata it builds from
the body, the keys only the request carries (taken out), and `params` (flattened in)."""

from __future__ import annotations

from typing import Any

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.errors import RequestError
from pipehouse.runtime.ids import unique_uuid

# Keys Open WebUI takes out of the body before a pipe sees it (Open WebUI 0.12.4 functions.py).
REQUEST_ONLY_KEYS = frozenset(
    (
        "metadata",
        "variables",
        "features",
        "tool_ids",
        "terminal_id",
        "files",
        "folder_id",
        "skill_ids",
        "regeneration_prompt",
        "model_item",
        "background_tasks",
        "parent_id",
        "message_ids",
        "id",
        "user_message",
        "chat_id",
        "chat_variables",
        "tool_servers",
        "automation_id",
        "assistant_message_id",
        "regeneration_message_id",
        "session_id",
        "filter_ids",
    )
)
# `params` is flattened into the body without these, which only Open WebUI itself reads.
WEBUI_ONLY_PARAMS = (
    "stream_response",
    "stream_delta_chunk_size",
    "function_calling",
    "reasoning_tags",
    "compact_token_threshold",
    "system",
    "note_id",
    "tool_approval_mode",
    "model_controls",
)

_REQUEST_KEY_TYPES = {
    "filter_ids": (list, "a list of filter ids"),
    "tool_ids": (list, "a list of tool ids"),
    "files": (list, "a list of file objects"),
    "features": (dict, "an object"),
    "variables": (dict, "an object"),
    "params": (dict, "an object"),
}
_TYPED_KEYS = frozenset(_REQUEST_KEY_TYPES)


def _expect(value: Any, kind: type, key: str, label: str) -> None:
    if not isinstance(value, kind):
        raise RequestError(f"'{key}' must be {label}, not {type(value).__name__}")


def build_metadata(
    body: dict[str, Any], user: dict[str, Any], model: dict[str, Any]
) -> dict[str, Any]:
    """The chat metadata Open WebUI builds, from what an API client can send: top-level ids and
    a `metadata` object (chat_id, message_id, session_id, files, task, ...)."""
    given = body.get("metadata")
    if given is None:
        given = {}
    _expect(given, dict, "metadata", "an object")
    for source, prefix in ((body, ""), (given, "metadata.")):
        if _TYPED_KEYS.isdisjoint(source):  # most requests: nothing to check
            continue
        for key in _REQUEST_KEY_TYPES.keys() & source.keys():
            if source[key] is not None:
                kind, label = _REQUEST_KEY_TYPES[key]
                _expect(source[key], kind, prefix + key, label)
    top, inner = body.get, given.get
    return {
        **given,
        "user_id": user.get("id"),
        "chat_id": top("chat_id") or inner("chat_id"),
        "message_id": top("id") or inner("message_id") or unique_uuid(),
        "session_id": top("session_id") or inner("session_id"),
        "filter_ids": list(top("filter_ids") or inner("filter_ids") or ()),
        "tool_ids": top("tool_ids", inner("tool_ids")),
        "files": top("files", inner("files")),
        "features": top("features", inner("features", {})),
        "variables": top("variables", inner("variables", {})),
        "model": model,
        "direct": False,
        "params": {"function_calling": "native", **(inner("params") or {})},
        "task": inner("task"),
        "task_body": inner("task_body"),
    }


def body_for_pipe(body: dict[str, Any], user: dict[str, Any], *, pipeline: bool) -> None:
    """Make `body` (in place) the body a pipe sees: `params` flattened without Open WebUI's own
    keys, request-only keys removed; a Pipelines model also gets the `user` the Pipelines
    server's main.py adds."""
    params = body.pop("params", None)
    if isinstance(params, dict):
        body.update({k: v for k, v in params.items() if k not in WEBUI_ONLY_PARAMS})
    for key in body.keys() & REQUEST_ONLY_KEYS:
        del body[key]
    if pipeline:
        body["user"] = {k: user.get(k) for k in ("name", "id", "email", "role")}


def filter_result(plugin_id: str, path: str | None, hook: str, result: Any) -> dict[str, Any]:
    """What a filter hook returned, which must be the body (a clear error otherwise)."""
    if isinstance(result, dict):
        return result
    raise PluginError(
        plugin_id=plugin_id,
        path=path,
        stage=hook,
        error_type="BadFilterResult",
        message=f"{hook}() returned {type(result).__name__}, not the body",
        hint=f"a filter's {hook}() must return the (modified) body dict",
    )


def drop_files(body: dict[str, Any]) -> list[Any] | None:
    """Once every inlet ran, a chain with a file handler takes the files out of the body (Open
    WebUI 0.12.4 utils/filter.py: later inlets still see them); what the metadata held stays
    the pipe's `__files__`."""
    kept = None
    if isinstance(body.get("metadata"), dict):
        kept = body["metadata"].pop("files", None)
    body.pop("files", None)
    return kept
