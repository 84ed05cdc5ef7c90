"""
title: Isolation report
author: pipehouse tests
description: Says which process it runs in, and uses what a plugin may ask of the server
  (an event, an event call, the user table, another model, the request).
version: 0.1.0
"""

import json
import os

from open_webui.models.users import Users
from open_webui.utils.chat import generate_chat_completion
from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        ASK_MODEL: str = "returns_str"

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(
        self, body: dict, __user__: dict, __event_emitter__, __event_call__, __request__
    ):
        await __event_emitter__(
            {"type": "status", "data": {"description": "working", "done": False}}
        )
        told = await __event_call__({"type": "input", "data": {"title": "Your name?"}})
        me = await Users.get_user_by_id(__user__["id"])
        question = {"model": self.valves.ASK_MODEL, "messages": body["messages"]}
        reply = await generate_chat_completion(__request__, question, user=me)
        streamed = await generate_chat_completion(
            __request__, {**question, "stream": True}, user=me
        )
        frames = [frame async for frame in streamed.body_iterator]
        report = {
            "pid": os.getpid(),
            "told": told,
            "email": me.email,
            "reply": reply["choices"][0]["message"]["content"],
            "streamed_frames": len(frames),
            "path": __request__.url.path,
            "method": __request__.method,
            "has_authorization": "authorization" in __request__.headers,
        }
        if not body.get("stream"):
            return json.dumps(report)

        async def pieces():
            text = json.dumps(report)
            for start in range(0, len(text), 7):
                yield text[start : start + 7]
            await __event_emitter__(
                {"type": "status", "data": {"description": "done", "done": True}}
            )

        return pieces()
