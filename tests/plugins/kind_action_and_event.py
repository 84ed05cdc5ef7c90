"""
title: Defines Event and Action (Open WebUI loads it as an action)
"""


class Event:
    async def event(self, event: dict) -> None:
        return None


class Action:
    async def action(self, body: dict) -> None:
        return None
