"""
title: Two tools that only finish when they run at the same time
"""

import asyncio


class Tools:
    def __init__(self):
        self._ping = asyncio.Event()
        self._pong = asyncio.Event()

    async def ping(self) -> str:
        """Wait for pong."""
        self._ping.set()
        await asyncio.wait_for(self._pong.wait(), timeout=1)
        return "ping"

    async def pong(self) -> str:
        """Wait for ping."""
        self._pong.set()
        await asyncio.wait_for(self._ping.wait(), timeout=1)
        return "pong"
