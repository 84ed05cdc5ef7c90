"""
title: Streams one chunk, then waits forever (records that it was stopped)
"""

import asyncio

STOPPED = []


class Pipe:
    async def pipe(self, body: dict):
        try:
            yield "first "
            await asyncio.Event().wait()
            yield "never"
        finally:
            STOPPED.append(True)
