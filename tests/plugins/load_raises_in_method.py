"""
title: Raises when called
"""


def parse(text: str) -> int:
    return int(text)  # raises here


class Pipe:
    def pipe(self, body: dict) -> str:
        return str(parse(body["messages"][-1]["content"]))
