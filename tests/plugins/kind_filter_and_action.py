"""
title: Defines Action and Filter (Open WebUI loads it as a filter)
"""


class Action:
    async def action(self, body: dict) -> None:
        return None


class Filter:
    def inlet(self, body: dict) -> dict:
        return body
