"""
title: Returns a dict with an error
"""


class Pipe:
    async def pipe(self, body: dict) -> dict:
        return {"error": {"message": "upstream quota exceeded"}}
