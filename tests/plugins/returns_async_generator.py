"""
title: Returns an async generator of text
"""

import asyncio


class Pipe:
    async def pipe(self, body: dict):
        yield "Hel"
        await asyncio.sleep(0)
        yield "lo, "
        yield "world"
