"""
title: A manifold whose pipes is a list; answers with body["model"]
"""


class Pipe:
    def __init__(self):
        self.name = "List/"
        self.pipes = [{"id": "alpha", "name": "Alpha"}, {"id": "beta", "name": "Beta"}]

    async def pipe(self, body: dict) -> str:
        return body["model"]
