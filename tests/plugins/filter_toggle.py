"""
title: A toggle filter: runs only when the user switches it on
"""


class Filter:
    def __init__(self):
        self.toggle = True

    async def inlet(self, body: dict, __id__: str) -> dict:
        body.setdefault("trail", []).append(__id__)
        return body
