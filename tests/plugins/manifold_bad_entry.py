"""
title: A manifold with an entry missing its name between two good ones
"""


class Pipe:
    def __init__(self):
        self.pipes = [
            {"id": "good1", "name": "Good 1"},
            {"id": "nameless"},
            {"name": "No id"},
            {"id": "good2", "name": "Good 2"},
        ]

    async def pipe(self, body: dict) -> str:
        return body["model"]
