"""
title: Yields ten chunks, each after a short pause
"""

import asyncio


class Pipe:
    async def pipe(self, body: dict):
        for n in range(10):
            await asyncio.sleep(0.03)
            yield f"{n} "
