"""
title: Pipe that calls a tool through __tools__
"""


class Pipe:
    async def pipe(self, body: dict, __tools__: dict) -> str:
        result = await __tools__["add"]["callable"](a=1, b=2)
        return f"1 + 2 = {result}"
