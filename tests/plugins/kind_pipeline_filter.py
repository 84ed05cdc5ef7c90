"""
title: Filter pipeline
"""


class Pipeline:
    def __init__(self):
        self.type = "filter"

    async def inlet(self, body: dict, user: dict) -> dict:
        return body

    async def outlet(self, body: dict, user: dict) -> dict:
        return body
