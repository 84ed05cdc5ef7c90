"""
title: CLI confirm pipe
"""


class Pipe:
    async def pipe(self, body: dict, __event_call__) -> str:
        answer = await __event_call__(
            {"type": "confirmation", "data": {"title": "Proceed?", "message": "Really?"}}
        )
        return f"answer={answer!r}"
