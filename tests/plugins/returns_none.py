"""
title: Returns None
"""


class Pipe:
    async def pipe(self, body: dict):
        return None
