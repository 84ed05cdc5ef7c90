"""
title: Returns a string
"""


class Pipe:
    async def pipe(self, body: dict) -> str:
        return "plain answer"
