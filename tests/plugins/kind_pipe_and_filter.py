"""
title: Defines both Pipe and Filter (Open WebUI loads it as a pipe)
"""


class Filter:
    def inlet(self, body: dict) -> dict:
        return body


class Pipe:
    def pipe(self, body: dict) -> str:
        return "from the pipe"
