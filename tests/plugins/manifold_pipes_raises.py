"""
title: A manifold whose pipes() raises
"""


class Pipe:
    def pipes(self):
        raise ConnectionError("the provider's model list is unreachable")

    async def pipe(self, body: dict) -> str:
        return "unreachable"
