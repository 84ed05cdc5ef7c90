"""
title: Ask Pipe
author: pipehouse
version: 0.1.0
description: Asks you to confirm, then for your name, through __event_call__ (the side channel).
license: MIT
"""

# `__event_call__` asks the person using the plugin something and waits for the answer. In Open
# WebUI a dialog pops up in the browser tab; with pipehouse any client can answer: it
# subscribes to `GET /api/v1/events` and posts the answer to `/api/v1/events/calls/{call_id}`
# (see examples/clients/answer_event_calls.py and docs/events.md). With nobody listening, the
# call returns {"error": ...} at once instead of waiting forever, so a plugin should check.


class Pipe:
    async def pipe(self, body: dict, __event_emitter__, __event_call__) -> str:
        confirmed = await __event_call__(
            {"type": "confirmation", "data": {"title": "Go on?", "message": "Shall I greet you?"}}
        )
        if isinstance(confirmed, dict) and "error" in confirmed:
            return f"Nobody answered me: {confirmed['error']}"
        if confirmed is not True:
            return "All right, I won't."
        name = await __event_call__(
            {"type": "input", "data": {"title": "Your name?", "placeholder": "Ada"}}
        )
        status = {"description": "Greeted", "done": True}
        await __event_emitter__({"type": "status", "data": status})
        return f"Hello, {name}!"
