"""
title: Returns a list
"""


class Pipe:
    async def pipe(self, body: dict):
        return ["not", "an", "iterator"]
