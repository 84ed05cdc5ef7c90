"""
title: Yields three pieces of text, the middle one mentioning a secret
"""


class Pipe:
    async def pipe(self, body: dict):
        yield "public "
        yield "secret stuff "
        yield "more"
