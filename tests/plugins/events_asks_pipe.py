"""
title: Asks for a confirmation, then a name, and answers with what it was told
"""

import json


class Pipe:
    async def pipe(self, body: dict, __event_emitter__, __event_call__) -> str:
        await __event_emitter__({"type": "status", "data": {"description": "asking", "done": False}})
        question = {"title": "Go on?", "message": "Shall I go on?"}
        if body.get("ask_timeout"):
            question["timeout"] = body["ask_timeout"]
        confirmed = await __event_call__({"type": "confirmation", "data": question})
        if confirmed is not True:
            return json.dumps({"confirmed": confirmed})
        name = await __event_call__({"type": "input", "data": {"title": "Your name?"}})
        await __event_emitter__({"type": "status", "data": {"description": "done", "done": True}})
        return json.dumps({"confirmed": True, "name": name})
