"""
title: An async pipe that never returns
"""

import asyncio


class Pipe:
    async def pipe(self, body: dict) -> str:
        await asyncio.Event().wait()
        return "never"
