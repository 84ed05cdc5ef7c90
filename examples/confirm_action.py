"""
title: Message Stats
author: pipehouse
version: 0.1.0
description: A button under each answer: confirm, then see its word, line and character counts.
license: MIT
"""

# An *Action* is a button shown under an assistant message. Clicking it calls `action()` with
# the chat as it stands. Actions talk to the user through two injected callables:
#
#   __event_emitter__(event)       fire and forget: status lines, notifications, message edits
#   await __event_call__(event)    ask and wait for the answer: a confirmation or a text input
#
# Whatever `action()` returns goes back to the browser as the JSON response of the click.

from typing import Any, Awaitable, Callable, Optional

from pydantic import BaseModel, Field


class Action:
    class Valves(BaseModel):
        # Open WebUI orders the buttons of several actions by `priority` (lower first).
        priority: int = Field(default=0, description="Position among the action buttons.")
        words_per_minute: int = Field(
            default=200, ge=1, description="Reading speed used for the reading-time estimate."
        )

    class UserValves(BaseModel):
        ask_first: bool = Field(default=True, description="Ask for confirmation before counting.")

    def __init__(self):
        self.valves = self.Valves()
        # Optional: `self.icon = "data:image/svg+xml;base64,..."` sets the button's icon, and a
        # list `self.actions = [{"id": "a", "name": "..."}, ...]` turns one plugin into several
        # buttons (each click then receives its sub-id as `__id__`).

    async def action(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
        __event_call__: Optional[Callable[[dict], Awaitable[Any]]] = None,
    ) -> Optional[dict]:
        # `body` carries the chat: "model", "messages" (the conversation up to this message),
        # "chat_id", "id" (the message the button belongs to) and "session_id".
        messages = body.get("messages") or []
        target = next(
            (m for m in reversed(messages) if m.get("role") == "assistant"),
            messages[-1] if messages else {},
        )
        text = target.get("content") if isinstance(target.get("content"), str) else ""

        user_valves = (__user__ or {}).get("valves")
        ask_first = user_valves.ask_first if user_valves is not None else True
        if ask_first and __event_call__:
            # A `confirmation` opens a dialog with OK / Cancel and waits for the click; the
            # answer is True or False. When nobody can answer (the tab closed, the call timed
            # out) an error dict such as {"error": "..."} comes back instead, so only a real
            # True counts as yes.
            answer = await __event_call__(
                {
                    "type": "confirmation",
                    "data": {
                        "title": "Count this message?",
                        "message": f"Count the words of a {len(text)}-character message.",
                    },
                }
            )
            if answer is not True:
                if __event_emitter__:
                    await __event_emitter__(
                        {"type": "notification", "data": {"type": "info", "content": "Cancelled."}}
                    )
                return {"status": "cancelled"}

        words = len(text.split())
        stats = {
            "status": "done",
            "words": words,
            "lines": len(text.splitlines()),
            "characters": len(text),
            "reading_seconds": round(words * 60 / self.valves.words_per_minute),
        }
        if __event_emitter__:
            # A notification is a toast in the corner; its `type` is info, success, warning or
            # error. It is not saved with the chat.
            await __event_emitter__(
                {
                    "type": "notification",
                    "data": {
                        "type": "success",
                        "content": (
                            f"{stats['words']} words, {stats['lines']} lines, "
                            f"{stats['characters']} characters "
                            f"(about {stats['reading_seconds']} s to read)."
                        ),
                    },
                }
            )
        return stats
