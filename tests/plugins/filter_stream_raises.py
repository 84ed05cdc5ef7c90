"""
title: A stream hook that raises on the first text chunk
"""


class Filter:
    async def stream(self, event: dict) -> dict:
        for choice in event.get("choices") or []:
            if (choice.get("delta") or {}).get("content"):
                raise RuntimeError("stream filter exploded")
        return event
