"""
title: A pipe answering with the inlet trail it was given ("trail=a,b")
"""


class Pipe:
    async def pipe(self, body: dict) -> str:
        return "trail=" + ",".join(body.get("trail", []))
