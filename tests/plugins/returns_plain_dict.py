"""
title: Returns a dict that is not OpenAI-shaped
"""


class Pipe:
    async def pipe(self, body: dict) -> dict:
        return {"answer": 42, "note": "not an OpenAI object"}
