"""`pipehouse run ACTION.py [TEXT]`: one click on an action's button, in the terminal.

The action runs on a conversation as Open WebUI's UI sends it: the messages up to the answer the
button is under, that answer's id as `id`, and chat and session ids. TEXT is that answer (an
assistant message); `--messages` gives the whole conversation instead. Events show on stderr,
event calls are answered as for pipes, and the return value is printed.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson

from pipehouse.console.host import ConsoleHost
from pipehouse.console.render import Renderer
from pipehouse.console.run import RunOptions, UsageError
from pipehouse.plugin.info import PluginInfo
from pipehouse.runtime.actions import run_action, sub_action_ids
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.ids import unique_uuid

CLI_MODEL = "local"  # the model id an action sees when none is named with --model


def conversation(options: RunOptions) -> list[dict[str, Any]]:
    """The messages the click carries, each with an id as the UI sends them."""
    messages: list[dict[str, Any]] = []
    if options.messages_file:
        try:
            loaded = orjson.loads(options.messages_file.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"{options.messages_file}: not JSON ({exc})") from exc
        loaded = loaded.get("messages") if isinstance(loaded, dict) else loaded
        if not isinstance(loaded, list):
            raise UsageError(f"{options.messages_file}: expected a JSON list of messages")
        messages = [dict(m) for m in loaded if isinstance(m, dict)]
    text = options.prompt
    if text is None and not messages and not sys.stdin.isatty():
        text = sys.stdin.read().strip() or None
    if text is not None:
        messages.append({"role": "assistant", "content": text})
    if options.system:
        messages = [{"role": "system", "content": options.system}, *messages]
    if not messages:
        raise UsageError("give the answer to act on (argument or stdin) or --messages FILE.json")
    for message in messages:
        message.setdefault("id", unique_uuid())
    return messages


def clicked(info: PluginInfo, wanted: str | None) -> str:
    """The id the click names: the action's own, or `<id>.<sub_id>` for one of its buttons."""
    listed = sub_action_ids(info)
    if listed is None:
        if wanted:
            raise UsageError(f"{info.id} has no sub-actions (no `actions` list)")
        return info.id
    if wanted:
        sub_id = wanted.removeprefix(f"{info.id}.")
        if sub_id not in listed:
            raise UsageError(
                f"no sub-action '{wanted}' in this action; it offers: {', '.join(listed) or 'none'}"
            )
        return f"{info.id}.{sub_id}"
    if len(listed) == 1:
        return f"{info.id}.{listed[0]}"
    if not listed:
        return info.id
    raise UsageError(
        f"this action offers several sub-actions, choose one with --sub-action: {', '.join(listed)}"
    )


async def click(
    options: RunOptions,
    renderer: Renderer,
    runtime: ChatRuntime,
    info: PluginInfo,
    user: dict[str, Any],
) -> int:
    """Run the action once (it must be in `runtime`'s catalog, its valves set); 0 on success."""
    if options.filters or options.filter_ids:
        raise UsageError("--filter and --enable apply to chats; an action runs on its own")
    action_id = clicked(info, options.sub_action)
    messages = conversation(options)
    model_id = options.model or CLI_MODEL
    body = {
        "model": model_id,
        "messages": messages,
        "chat_id": f"local:{unique_uuid()}",
        "session_id": unique_uuid(),
        "id": messages[-1]["id"],
    }
    model = {"id": model_id, "name": model_id, "object": "model", "owned_by": "pipehouse"}
    host = ConsoleHost(renderer, answers=options.answers)
    result = await run_action(runtime, action_id, body, user, host=host, model=model)
    renderer.result(result.value)
    return 0
