"""
title: Manifold with a pipes method
"""


class Pipe:
    def pipes(self) -> list[dict]:
        return [{"id": "fast", "name": "Fast"}]

    def pipe(self, body: dict) -> str:
        return body["model"]
