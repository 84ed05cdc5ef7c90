"""
title: Asks the user for input with __event_call__ and answers with the reply
"""

import json


class Pipe:
    async def pipe(self, body: dict, __event_call__) -> str:
        reply = await __event_call__(
            {"type": "input", "data": {"title": "Name?", "message": "Who are you?"}}
        )
        return json.dumps({"reply": reply})
