"""
title: Body Keys
author: pipehouse tests
version: 0.1.0
description: Answers with the keys of the body it was given (and the filters' trail), to show
    what reaches a pipe.
"""

import json

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        indent: int = Field(default=0, description="JSON indent of the answer")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __metadata__: dict) -> str:
        return json.dumps(
            {
                "keys": sorted(body),
                "trail": body.get("trail", []),
                "chat_id": __metadata__.get("chat_id"),
            },
            indent=self.valves.indent or None,
        )
