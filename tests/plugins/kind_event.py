"""
title: Plain event function
"""


class Event:
    async def event(self, event: dict) -> str:
        return __name__
