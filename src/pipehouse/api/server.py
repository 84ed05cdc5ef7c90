"""The HTTP server: uvicorn, told to end event subscriptions as soon as it starts stopping."""

from __future__ import annotations

import socket

import uvicorn


class Server(uvicorn.Server):
    """uvicorn lets responses finish before it stops (chat streams should), but an event
    subscription never finishes on its own: it is ended first, with a last `closing` frame."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state = getattr(self.config.app, "state", None)
        events = getattr(state, "events", None)
        if events is not None:
            events.close()
        await super().shutdown(sockets)
