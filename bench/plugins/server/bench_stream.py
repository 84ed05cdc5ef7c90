"""
title: Bench stream pipe
description: An async generator yielding `max_tokens` (default 1,000) small chunks.
"""


class Pipe:
    async def pipe(self, body: dict):
        for _ in range(int(body.get("max_tokens") or 1000)):
            yield "tok "
