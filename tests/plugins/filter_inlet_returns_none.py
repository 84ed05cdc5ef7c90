"""
title: An inlet that forgets to return the body
"""


class Filter:
    async def inlet(self, body: dict):
        body["touched"] = True
