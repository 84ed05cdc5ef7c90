"""
title: CLI raising pipe
"""


class Pipe:
    async def pipe(self, body: dict):
        yield "partial "
        settings = {}
        yield settings["api_key_missing"]
