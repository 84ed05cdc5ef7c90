"""
title: Streams five words slowly, so a request is still in progress when the server is stopped
"""

import asyncio


class Pipe:
    async def pipe(self, body: dict):
        for word in ["one ", "two ", "three ", "four ", "five"]:
            await asyncio.sleep(0.1)
            yield word
