"""
title: Answer Footer
author: pipehouse tests
description: Adds a short notice under every streamed answer, written into the chunk that ends the answer.
version: 0.1.0
"""

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=0, description="Filter order (lower runs first).")
        footer: str = Field(
            default="\n\n_AI-generated; check important facts._",
            description="Text added at the end of each answer.",
        )

    def __init__(self):
        self.valves = self.Valves()

    def stream(self, event: dict) -> dict:
        for choice in event.get("choices") or []:
            if choice.get("finish_reason") == "stop":
                delta = choice.get("delta") or {}
                delta["content"] = (delta.get("content") or "") + self.valves.footer
                choice["delta"] = delta
        return event
