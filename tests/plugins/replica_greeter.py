"""
title: Replica Greeter
author: pipehouse tests
version: 0.1.0
description: Greets with its valves, signs with the user's, says its process id when asked, reports progress, asks when told to (and gives up after a while when told so), and streams slowly on request.
"""

import asyncio
import os

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        GREETING: str = Field(default="Hello", description="The first word of every answer")

    class UserValves(BaseModel):
        SIGNATURE: str = Field(default="", description="Appended to the answer")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict, __event_emitter__, __event_call__):
        text = body["messages"][-1]["content"]
        user_valves = __user__.get("valves")
        signature = getattr(user_valves, "SIGNATURE", "") if user_valves else ""
        await __event_emitter__({"type": "status", "data": {"description": f"greeting {text}", "done": False}})
        if text == "pid":
            return str(os.getpid())
        if text == "ask":
            text = await __event_call__({"type": "input", "data": {"title": "Your name?"}})
        elif text.startswith("ask within "):  # seconds
            seconds = float(text.split()[2])
            reply = await __event_call__(
                {"type": "input", "data": {"title": "Your name?", "timeout_ms": seconds * 1000}}
            )
            if isinstance(reply, dict) and "error" in reply:
                return f"No answer: {reply['error']}"
            text = reply
        if text.startswith("slow "):
            return self._slowly(int(text.split()[1]), __event_emitter__)
        return f"{self.valves.GREETING}, {text}{signature}"

    async def _slowly(self, count: int, emit):
        for index in range(count):
            await emit({"type": "status", "data": {"description": f"tick {index}", "done": False}})
            yield f"{self.valves.GREETING} {index} "
            await asyncio.sleep(0.05)
