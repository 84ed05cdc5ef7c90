"""
title: An inlet that blocks the message by raising
"""


class Filter:
    async def inlet(self, body: dict) -> dict:
        raise ValueError("blocked by policy")
