"""
title: Bench OK pipe
description: The smallest pipe: answers "ok" (bench/server.py, non-streaming rows).
"""


class Pipe:
    async def pipe(self, body: dict):
        return "ok"
