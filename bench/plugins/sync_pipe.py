"""
title: Bench sync pipe
description: Yields `max_tokens` copies of a short token from a sync generator (run on a thread).
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        TOKEN: str = "tok "

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict):
        token = self.valves.TOKEN
        for _ in range(int(body.get("max_tokens") or 0)):
            yield token
