"""
title: The pipe call raises
"""


class Pipe:
    async def pipe(self, body: dict):
        raise ValueError("the pipe broke before answering")
