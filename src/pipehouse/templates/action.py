"""
title: {{title}}
author: your name
version: 0.1.0
description: What this button does, in one line.
license: MIT
"""

# An Open WebUI Action: a button under each assistant message. A click calls `action()` with
# the chat; what it returns is sent back to the browser as the click's JSON response.
#
# As written it asks for confirmation, then reports the length of the message in a
# notification, so it runs as-is. Replace the middle part with your own logic (save the
# message somewhere, translate it, turn it into a file...).

from typing import Any, Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Action:
    # Admin settings; a fresh `self.valves` is built from the saved values before every call.
    class Valves(BaseModel):
        # Open WebUI orders the buttons of several actions by this field (lower first).
        priority: int = Field(default=0, description="Position among the action buttons.")

    # Per-user settings, delivered as `__user__["valves"]` (a UserValves instance).
    class UserValves(BaseModel):
        confirm: bool = Field(default=True, description="Ask before running.")

    def __init__(self):
        # One instance serves every click of every user: keep no per-click state here.
        self.valves = self.Valves()
        # Optional extras:
        # self.icon = "data:image/svg+xml;base64,..."   # the button's icon
        # self.actions = [{"id": "short", "name": "Shorten"}, {"id": "long", "name": "Expand"}]
        #     # several buttons from one plugin; the clicked one arrives as `__id__`

    # `body` is always passed: {"model", "messages" (the chat up to this message), "chat_id",
    # "id" (this message's id), "session_id", ...}. Other arguments are passed only when named
    # in the signature: __user__, __event_emitter__, __event_call__, __model__, __request__,
    # __id__. `async def` is usual; a plain `def` works too (Open WebUI runs it on its event
    # loop, so it must not block; pipehouse runs it in a worker thread).
    async def action(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
        __event_call__: Optional[Callable[[dict], Awaitable[Any]]] = None,
    ) -> Optional[dict]:
        user_valves = (__user__ or {}).get("valves")
        messages = body.get("messages") or []
        message = messages[-1] if messages else {}
        text = message.get("content") if isinstance(message.get("content"), str) else ""

        if (user_valves is None or user_valves.confirm) and __event_call__:
            # Event calls wait for the user. "confirmation" answers True or False; "input"
            # ({"title", "message", "placeholder"}) answers the text typed. When nobody can
            # answer, an error dict comes back instead, so test for the exact answer you need.
            answer = await __event_call__(
                {
                    "type": "confirmation",
                    "data": {"title": "Run this action?", "message": "It only measures the text."},
                }
            )
            if answer is not True:
                return {"status": "cancelled"}

        if __event_emitter__:
            # Other useful events: {"type": "message", "data": {"content": "..."}} appends to
            # the message, "replace" replaces its content, "status" shows a progress line.
            await __event_emitter__(
                {
                    "type": "notification",
                    "data": {
                        "type": "info",  # info, success, warning or error
                        "content": f"This message has {len(text.split())} words.",
                    },
                }
            )
        # Raise an exception to report a failure: the user sees "Error: <your message>".
        return {"status": "done", "words": len(text.split())}
