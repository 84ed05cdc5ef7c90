"""
title: Yields None, numbers and empty strings between text
"""


class Pipe:
    async def pipe(self, body: dict):
        yield "a"
        yield None
        yield 3
        yield ""
        yield 2.5
        yield "b"
