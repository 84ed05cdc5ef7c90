"""
title: A pipe with a pydantic model that happens to be called Action
"""

from pydantic import BaseModel


class Action(BaseModel):
    verb: str = "search"


class Pipe:
    def pipe(self, body: dict) -> str:
        return Action().verb
