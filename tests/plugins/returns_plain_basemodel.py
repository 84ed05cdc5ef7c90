"""
title: Returns a pydantic model that is not OpenAI-shaped
"""

from pydantic import BaseModel


class Verdict(BaseModel):
    verdict: str
    score: int


class Pipe:
    async def pipe(self, body: dict) -> Verdict:
        return Verdict(verdict="fine", score=7)
