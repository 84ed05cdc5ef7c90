"""
title: Manifold with a pipes list
"""


class Pipe:
    def __init__(self):
        self.pipes = [{"id": "fast", "name": "Fast"}, {"id": "smart", "name": "Smart"}]

    def pipe(self, body: dict) -> str:
        return body["model"]
