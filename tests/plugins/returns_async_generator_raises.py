"""
title: An async generator raises after yielding some text
"""


class Pipe:
    async def pipe(self, body: dict):
        yield "partial "
        raise RuntimeError("the async stream broke halfway")
