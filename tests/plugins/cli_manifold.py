"""
title: CLI manifold
"""


class Pipe:
    def __init__(self):
        self.name = "Case: "

    def pipes(self):
        return [{"id": "up", "name": "Upper"}, {"id": "down", "name": "Lower"}]

    def pipe(self, body: dict) -> str:
        text = body["messages"][-1]["content"]
        sub = body["model"].split(".", 1)[1]
        return text.upper() if sub == "up" else text.lower()
