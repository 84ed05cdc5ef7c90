"""
title: A manifold whose pipes() is an async method and which has no name prefix
"""


class Pipe:
    async def pipes(self):
        return [{"id": "gpt-x", "name": "GPT X"}]

    async def pipe(self, body: dict) -> str:
        return body["model"]
