"""
title: Chunk logger whose sync HTTP call hangs
author: pipehouse tests
version: 0.1.0
description: Posts every streamed chunk to an audit endpoint with a blocking client that hangs.
"""

import time

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=1, description="order among filters")

    def __init__(self):
        self.valves = self.Valves()

    def stream(self, event: dict) -> dict:
        if any((c.get("delta") or {}).get("content") for c in event.get("choices", [])):
            time.sleep(3600)  # a requests.post(...) without a timeout, to a host that hangs
        return event
