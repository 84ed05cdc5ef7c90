"""
title: Returns a non-OpenAI dict holding values JSON has no type for (a set, a pydantic model)
"""

from pydantic import BaseModel


class Verdict(BaseModel):
    verdict: str = "fine"


class Pipe:
    async def pipe(self, body: dict) -> dict:
        return {"answer": "ok", "tags": {"checked"}, "verdict": Verdict()}
