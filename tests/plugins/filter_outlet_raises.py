"""
title: An outlet that raises
"""


class Filter:
    async def outlet(self, body: dict) -> dict:
        raise RuntimeError("outlet exploded")
