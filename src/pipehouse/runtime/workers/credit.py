"""Flow control of a worker's stream: credit, counted in items.

A worker sends a stream's items only while it holds credit for them; the server grants more
as its consumer takes items. A client that reads slowly therefore holds the plugin's
generator back (it waits for credit in the worker) instead of letting items pile up in the
server's memory; what the server holds for a stream never exceeds `WINDOW` items. Credit is
granted in chunks of half the window, so a fast consumer never waits on a round trip: the
inline counterpart is the SSE producer's high-water mark in runtime/turn.py. A stream
filter's input and a host call's stream (a model's answer plugin code asked for) cross the
other way under the same rule (`FEED_WINDOW`, the worker granting).
"""

from __future__ import annotations

import asyncio

WINDOW = 256  # items a stream may have sent and not yet seen taken (one full batch)
FEED_WINDOW = 64  # a stream filter's input, a host call's stream: at an upstream's pace, a few do


class Credit:
    """The worker's side: items it may still send for one stream."""

    __slots__ = ("_granted", "available")

    def __init__(self, available: int = WINDOW) -> None:
        self.available = available
        self._granted = asyncio.Event()

    def grant(self, items: int) -> None:
        self.available += items
        self._granted.set()

    async def wait(self) -> None:
        """Until there is credit again (the consumer took items)."""
        while self.available <= 0:
            self._granted.clear()
            await self._granted.wait()


class Ledger:
    """The server's side of one stream: what came, what its consumer took, what is granted."""

    __slots__ = ("_granted_upto", "paused", "received", "refill", "taken")

    def __init__(self, window: int = WINDOW) -> None:
        self.refill = window // 2
        self.received = 0
        self.taken = 0
        self._granted_upto = 0
        self.paused = False  # the worker said it waits for credit

    @property
    def held(self) -> int:
        """Items the server holds for this stream (received, not yet taken): <= WINDOW."""
        return self.received - self.taken

    def took(self, items: int) -> int:
        """The consumer took `items`; the credit to grant now (0 until half a window)."""
        self.taken += items
        due = self.taken - self._granted_upto
        if due < self.refill:
            return 0
        self._granted_upto = self.taken
        self.paused = False
        return due
