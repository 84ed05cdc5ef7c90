"""
title: Always fails
"""


class Action:
    async def action(self, body: dict) -> None:
        raise ValueError("nothing to act on")
