"""
title: {{title}}
author: your name
version: 0.1.0
description: What this filter does, in one line.
license: MIT
"""

# An Open WebUI Filter: it runs around the models instead of being one. An admin enables it for
# every model (global) or for chosen ones. Its hooks, all optional:
#
#   inlet(body)    before the model is called: change the request, or raise to refuse it
#   stream(event)  for each chunk of a streamed answer: change it, or return None to drop it
#   outlet(body)   after the answer is complete: change the finished conversation
#
# Each hook must return the (possibly changed) value it received: the return value replaces it.
#
# As written this filter runs as-is and changes nothing unless you set its valves:
# `system_note` adds a system message, `tag` is appended to every answer.

from typing import Any, Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Filter:
    # Admin settings; a fresh `self.valves` is built from the saved values before every call.
    class Valves(BaseModel):
        # Open WebUI orders filters by this field (lower runs first, then by id): keep its name.
        priority: int = Field(default=0, description="Filters with a lower priority run first.")
        system_note: str = Field(
            default="", description="A system message added to every request (none if empty)."
        )
        tag: str = Field(default="", description="Text appended to every answer (none if empty).")

    # Per-user settings, delivered as `__user__["valves"]` (a UserValves instance).
    class UserValves(BaseModel):
        enabled: bool = Field(default=True, description="Apply this filter to my chats.")

    def __init__(self):
        # One instance serves every request and every user: keep no per-request state here.
        self.valves = self.Valves()
        # Uncomment to make a *toggle* filter: it then runs only in chats where the user has
        # switched it on (a button under the message box; the request lists it in filter_ids).
        # self.toggle = True
        # self.icon = "data:image/svg+xml;base64,..."  # the button's icon

    def _enabled(self, user: Optional[dict]) -> bool:
        # Helpers start with "_": they are not hooks.
        user_valves = (user or {}).get("valves")
        return user_valves is None or user_valves.enabled

    # `body` is always passed. Other arguments are passed only when named in the signature:
    #   __user__, __event_emitter__, __event_call__, __metadata__ (chat_id, message_id,
    #   files, ...), __model__ (the chosen model), __request__, __id__ (this filter's id).
    #
    # Hooks may be `async def` or plain `def`. Open WebUI calls a plain `def` right on its event
    # loop, so it must not block (no slow HTTP calls, no sleeps); pipehouse runs it in a thread.
    async def inlet(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
        __event_call__: Optional[Callable[[dict], Awaitable[Any]]] = None,
        __metadata__: Optional[dict] = None,
    ) -> dict:
        # body: {"model": ..., "messages": [{"role": ..., "content": ...}, ...], "stream": ...,
        #        plus "features", "files", "tool_ids" that an inlet may still change}.
        if not self._enabled(__user__):
            return body

        # To refuse the message, raise: the user sees the text as this message's error.
        #     raise Exception("Messages about X are not allowed here.")
        #
        # To ask the user first (returns True/False, or an error dict when nobody answers):
        #     ok = await __event_call__({"type": "confirmation",
        #                                "data": {"title": "Send?", "message": "Really?"}})

        if self.valves.system_note:
            messages = list(body.get("messages") or [])
            messages.insert(0, {"role": "system", "content": self.valves.system_note})
            body["messages"] = messages
            if __event_emitter__:
                await __event_emitter__(
                    {
                        "type": "status",
                        "data": {"description": "Added the system note", "done": True},
                    }
                )
        return body

    # Called once per chunk of a streamed answer, so keep it cheap. `event` is an OpenAI chunk:
    #   {"id", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {...}}]}
    # Many chunks have no text: the role chunk, the finish chunk, usage chunks (choices == []),
    # tool-call chunks. Return the chunk (changed or not); return None to drop it. Only streamed
    # answers pass through here; use the outlet for changes every answer must get.
    async def stream(self, event: dict) -> dict:
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                pass  # e.g. delta["content"] = delta["content"].replace("foo", "bar")
        return event

    # After the answer is complete. body: {"model", "messages": [..., the answer last],
    # "chat_id", "session_id", "id" (the answer's message id), "filter_ids"}.
    # Errors raised here are logged and the answer is kept as it was.
    async def outlet(self, body: dict, __user__: Optional[dict] = None) -> dict:
        messages = body.get("messages") or []
        if not self._enabled(__user__) or not self.valves.tag or not messages:
            return body
        last = messages[-1]
        if last.get("role") == "assistant" and isinstance(last.get("content"), str):
            messages[-1] = {**last, "content": f"{last['content']}\n\n{self.valves.tag}"}
        return body
